//! Feeds arbitrary bytes to the AgentX decoder: it must never panic, and
//! whatever it accepts must re-encode to something that decodes identically.
//!
//! Run from the repository root (cargo-fuzz needs nightly flags; on a stable
//! toolchain `RUSTC_BOOTSTRAP=1` unlocks them), keeping new inputs out of the
//! committed seed corpus:
//!
//! ```sh
//! RUSTC_BOOTSTRAP=1 cargo fuzz run pdu_decode /tmp/pdu-corpus fuzz/corpus/pdu_decode \
//!     -- -max_total_time=120
//! ```

#![no_main]

use libfuzzer_sys::fuzz_target;
use vti_agentx::agentx::pdu::{FrameDecoder, Pdu};

fuzz_target!(|data: &[u8]| {
    if let Ok(pdu) = Pdu::decode(data) {
        let bytes = pdu.encode().expect("a decoded PDU re-encodes");
        assert_eq!(Pdu::decode(&bytes).as_ref(), Ok(&pdu));
    }

    // The same bytes as a stream arriving in two reads.
    let mut frames = FrameDecoder::new();
    let (first, second) = data.split_at(data.len() / 2);
    for chunk in [first, second] {
        frames.extend(chunk);
        while let Ok(Some(frame)) = frames.next_frame() {
            let _ = Pdu::decode(&frame);
        }
    }
});
