//! Feeds arbitrary bytes to the VICI decoder: it must never panic, and
//! whatever it accepts must re-encode to something that decodes identically.
//!
//! Run from the repository root (cargo-fuzz needs nightly flags; on a stable
//! toolchain `RUSTC_BOOTSTRAP=1` unlocks them), keeping new inputs out of the
//! committed seed corpus:
//!
//! ```sh
//! RUSTC_BOOTSTRAP=1 cargo fuzz run vici_decode /tmp/vici-corpus fuzz/corpus/vici_decode \
//!     -- -max_total_time=180
//! ```

#![no_main]

use libfuzzer_sys::fuzz_target;
use vti_agentx::vici::{FrameDecoder, Message, Packet};

fuzz_target!(|data: &[u8]| {
    if let Ok(packet) = Packet::decode(data) {
        let bytes = packet.encode().expect("a decoded packet re-encodes");
        assert_eq!(Packet::decode(&bytes[4..]).as_ref(), Ok(&packet));
    }
    if let Ok(message) = Message::decode(data) {
        let bytes = message.encode().expect("a decoded message re-encodes");
        assert_eq!(bytes, data, "the encoding is canonical");
    }

    // The same bytes as a stream arriving in two reads.
    let mut frames = FrameDecoder::new();
    let (first, second) = data.split_at(data.len() / 2);
    for chunk in [first, second] {
        frames.extend(chunk);
        while let Ok(Some(frame)) = frames.next_frame() {
            let _ = Packet::decode(&frame);
        }
    }
});
