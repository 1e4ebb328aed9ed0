//! The session against an in-test fake master over a Unix socket.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::timeout;

use super::objects::ObjectMap;
use super::*;
use crate::agentx::pdu::{
    Body, CloseReason, ErrorStatus, FrameDecoder, GetBulk, Pdu, Response, SearchRange, VarBind,
};
use crate::agentx::transport::MasterAddr;
use crate::value::Value;

const ROOT: &str = "1.3.6.1.4.1.99";
const WAIT: Duration = Duration::from_secs(5);

fn oid(s: &str) -> Oid {
    s.parse().unwrap()
}

fn r(suffix: &str) -> Oid {
    oid(&format!("{ROOT}.{suffix}"))
}

/// ROOT.1.1.0 = 42, ROOT.2.1.{1,2}.{10,20} (Gauge32).
fn objects() -> Arc<ObjectMap> {
    let column = |col: u32| {
        [10, 20]
            .into_iter()
            .enumerate()
            .map(move |(row, key)| (vec![key], Value::Gauge32(row as u32 * 10 + col)))
    };
    Arc::new(
        ObjectMap::default()
            .scalar(r("1.1"), Value::Integer(42))
            .column(r("2.1.1"), column(1))
            .column(r("2.1.2"), column(2)),
    )
}

fn config(path: &std::path::Path) -> SessionConfig {
    let mut cfg = SessionConfig::new(
        MasterAddr::Unix(path.to_path_buf()),
        oid(ROOT),
        "test agent",
    );
    cfg.backoff_initial = Duration::from_millis(10);
    cfg.backoff_max = Duration::from_millis(50);
    cfg.response_timeout = Duration::from_millis(500);
    cfg
}

/// A running session plus the means to stop it.
struct Running {
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), SessionError>>,
    stats: Arc<SessionStats>,
    notify: mpsc::Sender<Notification>,
}

fn start(cfg: SessionConfig) -> Running {
    let (notify, rx) = mpsc::channel(16);
    let (stop, stopped) = oneshot::channel::<()>();
    let session = Session::new(cfg, objects(), rx);
    let stats = session.stats();
    let task = tokio::spawn(session.run(async move {
        let _ = stopped.await;
    }));
    Running {
        stop: Some(stop),
        task,
        stats,
        notify,
    }
}

impl Running {
    async fn shutdown(mut self) {
        let _ = self.stop.take().unwrap().send(());
        timeout(WAIT, self.task)
            .await
            .expect("session stops promptly")
            .unwrap()
            .unwrap();
    }
}

struct Master {
    _dir: tempfile::TempDir,
    path: PathBuf,
    listener: UnixListener,
}

impl Master {
    fn new() -> Master {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master");
        let listener = UnixListener::bind(&path).unwrap();
        Master {
            _dir: dir,
            path,
            listener,
        }
    }

    async fn accept(&self) -> Peer {
        let (stream, _) = timeout(WAIT, self.listener.accept())
            .await
            .expect("subagent connects")
            .unwrap();
        Peer {
            stream,
            frames: FrameDecoder::new(),
            session_id: 0,
            next_packet: 1000,
        }
    }
}

/// The master's end of one connection.
struct Peer {
    stream: UnixStream,
    frames: FrameDecoder,
    session_id: u32,
    next_packet: u32,
}

fn ok(sys_uptime: u32) -> Response {
    Response {
        sys_uptime,
        error: ErrorStatus::NoError,
        index: 0,
        varbinds: vec![],
    }
}

impl Peer {
    async fn recv(&mut self) -> Pdu {
        let frame = self.recv_frame().await.expect("a PDU, not EOF");
        Pdu::decode(&frame).unwrap()
    }

    /// `None` on EOF.
    async fn recv_frame(&mut self) -> Option<Vec<u8>> {
        let mut buf = [0u8; 4096];
        loop {
            if let Some(frame) = self.frames.next_frame().unwrap() {
                return Some(frame);
            }
            let n = timeout(WAIT, self.stream.read(&mut buf))
                .await
                .expect("subagent sends something")
                .unwrap_or(0);
            if n == 0 {
                return None;
            }
            self.frames.extend(&buf[..n]);
        }
    }

    async fn send(&mut self, pdu: &Pdu) {
        self.stream.write_all(&pdu.encode().unwrap()).await.unwrap();
    }

    async fn reply(&mut self, to: &Pdu, session_id: u32, res: Response) {
        let pdu = Pdu {
            session_id,
            transaction_id: to.transaction_id,
            packet_id: to.packet_id,
            body: Body::Response(res),
        };
        self.send(&pdu).await;
    }

    /// Accepts Open, Register and AddAgentCaps, checking their contents.
    async fn handshake(&mut self, session_id: u32) {
        let open = self.recv().await;
        let Body::Open(o) = &open.body else {
            panic!("expected Open, got {open:?}")
        };
        assert_eq!(
            (o.timeout, &o.id, o.descr.as_slice()),
            (0, &oid(ROOT), &b"test agent"[..])
        );
        self.session_id = session_id;
        self.reply(&open, session_id, ok(4200)).await;

        let reg = self.recv().await;
        assert_eq!(reg.session_id, session_id);
        let Body::Register(rg) = &reg.body else {
            panic!("expected Register, got {reg:?}")
        };
        assert_eq!(
            (rg.priority, &rg.subtree, rg.range, rg.instance),
            (127, &oid(ROOT), None, false)
        );
        assert_eq!(rg.context, None);
        self.reply(&reg, session_id, ok(4200)).await;

        let caps = self.recv().await;
        let Body::AddAgentCaps(c) = &caps.body else {
            panic!("expected AddAgentCaps, got {caps:?}")
        };
        assert_eq!(
            (&c.id, c.descr.as_slice()),
            (&oid(ROOT), &b"test agent"[..])
        );
        self.reply(&caps, session_id, ok(4200)).await;
    }

    /// Sends a request and returns the subagent's Response to it.
    async fn ask(&mut self, body: Body) -> Response {
        self.next_packet += 1;
        let packet_id = self.next_packet;
        let req = Pdu {
            session_id: self.session_id,
            transaction_id: 5,
            packet_id,
            body,
        };
        self.send(&req).await;
        loop {
            let pdu = self.recv().await;
            match pdu.body {
                Body::Response(res) if pdu.packet_id == packet_id => {
                    assert_eq!(pdu.transaction_id, 5);
                    return res;
                }
                Body::Ping { .. } => self.reply(&pdu, self.session_id, ok(1)).await,
                other => panic!("unexpected {other:?}"),
            }
        }
    }

    /// Waits for the subagent to drop the connection, answering nothing.
    async fn expect_eof(&mut self) {
        while self.recv_frame().await.is_some() {}
    }
}

/// Waits (briefly) for the session task to catch up.
async fn eventually(cond: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while !cond() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "condition never held"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn range(start: Oid, include: bool, end: Option<Oid>) -> SearchRange {
    SearchRange {
        start,
        include,
        end: end.unwrap_or_default(),
    }
}

#[tokio::test]
async fn registers_serves_and_closes_on_shutdown() {
    let master = Master::new();
    let session = start(config(&master.path));
    let mut peer = master.accept().await;
    peer.handshake(77).await;

    let res = peer
        .ask(Body::Get {
            context: None,
            ranges: vec![
                range(r("1.1.0"), false, None),
                range(r("1.1.1"), false, None),
            ],
        })
        .await;
    assert_eq!(
        res.varbinds,
        [
            VarBind::new(r("1.1.0"), Value::Integer(42)),
            VarBind::new(r("1.1.1"), Value::NoSuchInstance)
        ]
    );

    // GetNext: include, and a range end that cuts the table short.
    let res = peer
        .ask(Body::GetNext {
            context: None,
            ranges: vec![
                range(oid(ROOT), true, None),
                range(r("2.1.1.10"), false, Some(r("2.1.1.20"))),
                range(r("2.1.1.10"), false, Some(r("2.1.2"))),
            ],
        })
        .await;
    assert_eq!(res.error, ErrorStatus::NoError);
    assert_eq!(res.varbinds[0].name, r("1.1.0"));
    assert_eq!(
        res.varbinds[1],
        VarBind::new(r("2.1.1.10"), Value::EndOfMibView)
    );
    assert_eq!(
        res.varbinds[2],
        VarBind::new(r("2.1.1.20"), Value::Gauge32(11))
    );

    let res = peer
        .ask(Body::GetBulk(GetBulk {
            context: None,
            non_repeaters: 1,
            max_repetitions: 10,
            ranges: vec![range(oid(ROOT), false, None), range(r("2"), false, None)],
        }))
        .await;
    let names: Vec<String> = res.varbinds.iter().map(|vb| vb.name.to_string()).collect();
    assert_eq!(
        names,
        [
            format!("{ROOT}.1.1.0"),
            format!("{ROOT}.2.1.1.10"),
            format!("{ROOT}.2.1.1.20"),
            format!("{ROOT}.2.1.2.10"),
            format!("{ROOT}.2.1.2.20"),
            format!("{ROOT}.2.1.2.20"),
        ]
    );
    assert_eq!(res.varbinds[5].value, Value::EndOfMibView);

    let res = peer
        .ask(Body::TestSet {
            context: None,
            varbinds: vec![VarBind::new(r("1.1.0"), Value::Integer(1))],
        })
        .await;
    assert_eq!((res.error, res.index), (ErrorStatus::NotWritable, 1));

    assert!(session.stats.connected());
    // Shutdown: Close(shutdown), acknowledged by the master.
    let stop = tokio::spawn(session.shutdown());
    let close = peer.recv().await;
    assert_eq!(
        close.body,
        Body::Close {
            reason: CloseReason::Shutdown
        }
    );
    assert_eq!(close.session_id, 77);
    peer.reply(&close, 77, ok(1)).await;
    stop.await.unwrap();
}

#[tokio::test]
async fn reconnects_and_reregisters_after_eof() {
    let master = Master::new();
    let session = start(config(&master.path));
    let mut peer = master.accept().await;
    peer.handshake(1).await;
    drop(peer);

    let mut peer = master.accept().await;
    peer.handshake(2).await;
    let res = peer
        .ask(Body::Get {
            context: None,
            ranges: vec![range(r("1.1.0"), false, None)],
        })
        .await;
    assert_eq!(res.varbinds[0].value, Value::Integer(42));
    eventually(|| session.stats.sessions() == 2).await;
    drop(peer);
    session.shutdown().await;
}

#[tokio::test]
async fn reconnects_when_master_closes_the_session() {
    let master = Master::new();
    let session = start(config(&master.path));
    let mut peer = master.accept().await;
    peer.handshake(1).await;
    peer.send(&Pdu {
        session_id: 1,
        transaction_id: 0,
        packet_id: 9,
        body: Body::Close {
            reason: CloseReason::Other,
        },
    })
    .await;
    peer.expect_eof().await;
    let mut peer = master.accept().await;
    peer.handshake(2).await;
    drop(peer);
    session.shutdown().await;
}

#[tokio::test]
async fn unanswered_ping_means_a_dead_master() {
    let master = Master::new();
    let mut cfg = config(&master.path);
    cfg.ping_interval = Duration::from_millis(50);
    cfg.response_timeout = Duration::from_millis(200);
    let session = start(cfg);
    let mut peer = master.accept().await;
    peer.handshake(1).await;

    // Answer the first ping, ignore the second: the subagent must give up on
    // this connection and open a new one.
    let ping = peer.recv().await;
    assert!(
        matches!(ping.body, Body::Ping { context: None }),
        "{ping:?}"
    );
    assert_eq!(ping.session_id, 1);
    peer.reply(&ping, 1, ok(1)).await;
    let ping = peer.recv().await;
    assert!(matches!(ping.body, Body::Ping { .. }));
    peer.expect_eof().await;

    let mut peer = master.accept().await;
    peer.handshake(2).await;
    drop(peer);
    session.shutdown().await;
}

#[tokio::test]
async fn refused_registration_is_retried() {
    let master = Master::new();
    let session = start(config(&master.path));
    let mut peer = master.accept().await;
    let open = peer.recv().await;
    peer.reply(&open, 1, ok(1)).await;
    let reg = peer.recv().await;
    assert!(matches!(reg.body, Body::Register(_)));
    let mut refused = ok(1);
    refused.error = ErrorStatus::DuplicateRegistration;
    peer.reply(&reg, 1, refused).await;
    peer.expect_eof().await;

    let mut peer = master.accept().await;
    peer.handshake(2).await;
    eventually(|| session.stats.sessions() == 1).await;
    drop(peer);
    session.shutdown().await;
}

fn note(i: u32) -> Notification {
    Notification {
        trap_oid: r(&format!("0.{i}")),
        varbinds: vec![(r("1.1.0"), Value::Integer(i as i32))],
    }
}

#[tokio::test]
async fn notifications_wait_for_the_master_oldest_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("master");
    let mut cfg = config(&path);
    cfg.notify_queue_len = 2;
    let session = start(cfg);
    // No master yet: all three are queued, the oldest is dropped.
    for i in 1..=3 {
        session.notify.send(note(i)).await.unwrap();
    }
    eventually(|| session.stats.notifications_dropped() == 1).await;

    let listener = UnixListener::bind(&path).unwrap();
    let master = Master {
        _dir: dir,
        path,
        listener,
    };
    let mut peer = master.accept().await;
    peer.handshake(5).await;
    for i in 2..=3 {
        let pdu = peer.recv().await;
        assert_eq!(pdu.session_id, 5);
        let Body::Notify { context, varbinds } = &pdu.body else {
            panic!("expected Notify, got {pdu:?}")
        };
        assert_eq!(*context, None);
        assert_eq!(varbinds.len(), 3);
        assert_eq!(varbinds[0].name.as_slice(), SYS_UPTIME_0);
        let Value::TimeTicks(t) = varbinds[0].value else {
            panic!("sysUpTime is TimeTicks")
        };
        assert!(
            (4200..4200 + 500).contains(&t),
            "master's uptime, not ours: {t}"
        );
        assert_eq!(varbinds[1].name.as_slice(), SNMP_TRAP_OID_0);
        assert_eq!(varbinds[1].value, Value::ObjectIdentifier(note(i).trap_oid));
        assert_eq!(
            varbinds[2],
            VarBind::new(r("1.1.0"), Value::Integer(i as i32))
        );
        peer.reply(&pdu, 5, ok(1)).await;
    }
    // And one sent while connected goes straight out.
    session.notify.send(note(9)).await.unwrap();
    let pdu = peer.recv().await;
    assert!(
        matches!(&pdu.body, Body::Notify { varbinds, .. } if varbinds[1].value == Value::ObjectIdentifier(note(9).trap_oid))
    );
    peer.reply(&pdu, 5, ok(1)).await;

    let stats = session.stats.clone();
    eventually(|| stats.notifications_sent() == 3).await;
    let stop = tokio::spawn(session.shutdown());
    let close = peer.recv().await;
    assert!(matches!(close.body, Body::Close { .. }));
    peer.reply(&close, 5, ok(1)).await;
    stop.await.unwrap();
}

#[tokio::test]
async fn unacknowledged_notification_is_resent_after_reconnect() {
    let master = Master::new();
    let session = start(config(&master.path));
    let mut peer = master.accept().await;
    peer.handshake(1).await;
    session.notify.send(note(1)).await.unwrap();
    let pdu = peer.recv().await;
    assert!(matches!(pdu.body, Body::Notify { .. }));
    drop(peer); // dies before acknowledging

    let mut peer = master.accept().await;
    peer.handshake(2).await;
    let pdu = peer.recv().await;
    let Body::Notify { varbinds, .. } = &pdu.body else {
        panic!("expected the Notify again, got {pdu:?}")
    };
    assert_eq!(varbinds[1].value, Value::ObjectIdentifier(note(1).trap_oid));
    peer.reply(&pdu, 2, ok(1)).await;
    drop(peer);
    session.shutdown().await;
}

#[tokio::test]
async fn unparsable_request_gets_parse_error() {
    let master = Master::new();
    let session = start(config(&master.path));
    let mut peer = master.accept().await;
    peer.handshake(3).await;
    // A Get whose search range claims 9 sub-identifiers but carries none.
    let mut bytes = Pdu {
        session_id: 3,
        transaction_id: 8,
        packet_id: 4242,
        body: Body::Get {
            context: None,
            ranges: vec![],
        },
    }
    .encode()
    .unwrap();
    bytes[19] = 4;
    bytes.extend_from_slice(&[9, 0, 0, 0]);
    peer.stream.write_all(&bytes).await.unwrap();
    let pdu = peer.recv().await;
    assert_eq!((pdu.packet_id, pdu.transaction_id), (4242, 8));
    let Body::Response(res) = pdu.body else {
        panic!("expected a Response, got {pdu:?}")
    };
    assert_eq!(res.error, ErrorStatus::ParseError);
    // The session survives it.
    let res = peer
        .ask(Body::Get {
            context: None,
            ranges: vec![range(r("1.1.0"), false, None)],
        })
        .await;
    assert_eq!(res.varbinds[0].value, Value::Integer(42));
    drop(peer);
    session.shutdown().await;
}

#[tokio::test]
async fn garbage_stream_drops_the_connection() {
    let master = Master::new();
    let session = start(config(&master.path));
    let mut peer = master.accept().await;
    peer.handshake(3).await;
    peer.stream.write_all(&[0xff; 64]).await.unwrap();
    peer.expect_eof().await;
    let mut peer = master.accept().await;
    peer.handshake(4).await;
    drop(peer);
    session.shutdown().await;
}

#[tokio::test]
async fn shutdown_while_master_is_absent_is_immediate() {
    let dir = tempfile::tempdir().unwrap();
    let session = start(config(&dir.path().join("nobody")));
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(!session.stats.connected());
    session.shutdown().await;
}

#[tokio::test]
async fn rejects_an_unregistrable_root() {
    let (_tx, rx) = mpsc::channel(1);
    let mut cfg = config(std::path::Path::new("/nonexistent"));
    cfg.root = Oid::default();
    let err = run_session(cfg, objects(), rx, std::future::pending::<()>())
        .await
        .unwrap_err();
    assert!(matches!(err, SessionError::BadRoot(_)));
}

/// The point of the responder thread: a request is answered even while the
/// runtime is busy (a poll building a large snapshot runs there), so snmpd's
/// AgentX timeout never depends on how long a poll takes.
#[tokio::test]
async fn requests_are_answered_while_the_runtime_is_blocked() {
    let master = Master::new();
    let (_notify, rx) = mpsc::channel(1);
    let session = Session::new(config(&master.path), objects(), rx);
    let stats = session.stats();
    let (block, blocked) = oneshot::channel::<()>();
    let (is_blocked, wait_blocked) = oneshot::channel::<()>();
    let (release, released) = std::sync::mpsc::channel::<()>();
    let (stop, stopped) = oneshot::channel::<()>();
    let session_thread = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let run = tokio::spawn(session.run(async move {
                let _ = stopped.await;
            }));
            let _ = blocked.await;
            let _ = is_blocked.send(());
            // Holds the runtime's only thread, as a long poll would.
            let _ = released.recv();
            run.await.unwrap()
        })
    });

    let mut peer = master.accept().await;
    peer.handshake(9).await;
    // Registered (AddAgentCaps answer processed) before the runtime stops.
    eventually(|| stats.connected()).await;
    block.send(()).unwrap();
    timeout(WAIT, wait_blocked).await.unwrap().unwrap();
    let res = peer
        .ask(Body::GetNext {
            context: None,
            ranges: vec![range(oid(ROOT), false, None)],
        })
        .await;
    assert_eq!(res.varbinds, [VarBind::new(r("1.1.0"), Value::Integer(42))]);

    release.send(()).unwrap();
    stop.send(()).unwrap();
    let close = peer.recv().await;
    assert!(matches!(close.body, Body::Close { .. }), "{close:?}");
    peer.reply(&close, 9, ok(1)).await;
    tokio::task::spawn_blocking(move || session_thread.join().unwrap().unwrap())
        .await
        .unwrap();
}
