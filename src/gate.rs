//! [`Gated`]: a future that is polled only after its own waker fired.
//!
//! `select!` polls every branch whenever its task wakes for any of them. On
//! the request path that means every AgentX request from the master also
//! polls the shutdown signals, the poll loop's timer and watch, and the
//! SIGHUP stream — more work than answering a GetNext. Wrapped in `Gated`,
//! an idle branch costs an atomic swap per wake-up instead; it is polled
//! again only once something it waits on woke it (as `FuturesUnordered`
//! does for its members).

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use futures::task::{waker, ArcWake, AtomicWaker};

pub struct Gated<F> {
    fut: Pin<Box<F>>,
    flag: Arc<Flag>,
    /// Handed to `fut`: sets `flag`, then wakes whoever polled us last.
    waker: Waker,
}

struct Flag {
    woken: AtomicBool,
    outer: AtomicWaker,
}

impl ArcWake for Flag {
    fn wake_by_ref(flag: &Arc<Self>) {
        flag.woken.store(true, Ordering::Release);
        flag.outer.wake();
    }
}

impl<F: Future> Gated<F> {
    pub fn new(fut: F) -> Self {
        let flag = Arc::new(Flag {
            woken: AtomicBool::new(true), // the first poll always goes through
            outer: AtomicWaker::new(),
        });
        Gated {
            fut: Box::pin(fut),
            waker: waker(Arc::clone(&flag)),
            flag,
        }
    }
}

impl<F: Future> Future for Gated<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.get_mut();
        // Register before looking at the flag: a wake-up in between still
        // reaches the current task.
        this.flag.outer.register(cx.waker());
        if !this.flag.woken.swap(false, Ordering::AcqRel) {
            return Poll::Pending;
        }
        this.fut
            .as_mut()
            .poll(&mut Context::from_waker(&this.waker))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::time::Duration;

    /// Counts its polls; pending until `ready` is set.
    struct Probe {
        polls: Arc<AtomicUsize>,
        ready: Arc<AtomicBool>,
    }

    impl Future for Probe {
        type Output = ();
        fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
            self.polls.fetch_add(1, Ordering::Relaxed);
            if self.ready.load(Ordering::Relaxed) {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        }
    }

    #[test]
    fn polls_the_inner_future_only_after_its_waker_fired() {
        let polls = Arc::new(AtomicUsize::new(0));
        let ready = Arc::new(AtomicBool::new(false));
        let mut g = Gated::new(Probe {
            polls: Arc::clone(&polls),
            ready: Arc::clone(&ready),
        });
        let noop = futures::task::noop_waker();
        let mut cx = Context::from_waker(&noop);
        assert!(Pin::new(&mut g).poll(&mut cx).is_pending());
        assert_eq!(polls.load(Ordering::Relaxed), 1, "first poll goes through");
        for _ in 0..5 {
            assert!(Pin::new(&mut g).poll(&mut cx).is_pending());
        }
        assert_eq!(polls.load(Ordering::Relaxed), 1, "not woken: not polled");
        ready.store(true, Ordering::Relaxed);
        g.waker.wake_by_ref();
        assert!(Pin::new(&mut g).poll(&mut cx).is_ready());
        assert_eq!(polls.load(Ordering::Relaxed), 2);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn timers_and_channels_still_complete() {
        let slept = Gated::new(tokio::time::sleep(Duration::from_secs(30)));
        let (tx, rx) = tokio::sync::oneshot::channel::<u8>();
        let got = Gated::new(rx);
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(10)).await;
            let _ = tx.send(7);
        });
        tokio::select! {
            _ = slept => panic!("the channel should win"),
            v = got => assert_eq!(v.unwrap(), 7),
        }
    }
}
