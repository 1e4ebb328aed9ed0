//! `/proc/net/xfrm_stat`: per-namespace XFRM error counters, one
//! `Name<whitespace>value` pair per line. Names were appended over kernel
//! versions, so the file is parsed by name and unknown names are kept.

use std::io;
use std::path::Path;

use crate::model::Availability;

pub const XFRM_STAT_PATH: &str = "/proc/net/xfrm_stat";

/// Parses the file's text. Lines that are not `name value` (a name followed
/// by one unsigned decimal number, separated by spaces or tabs) are skipped.
pub fn parse(text: &str) -> Vec<(String, u64)> {
    text.lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let name = fields.next()?;
            let value = fields.next()?.parse().ok()?;
            if fields.next().is_some() {
                return None;
            }
            Some((name.to_owned(), value))
        })
        .collect()
}

/// Reads and parses `path`. The file is missing when the kernel has no
/// CONFIG_XFRM_STATISTICS (or no XFRM at all): reported as unavailable.
pub fn read(path: &Path) -> Availability<Vec<(String, u64)>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Availability::Available(parse(&text)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Availability::Unavailable(format!(
            "{} not present (kernel without CONFIG_XFRM_STATISTICS or XFRM)",
            path.display()
        )),
        Err(e) => Availability::Unavailable(format!("cannot read {}: {e}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_by_name_tolerating_layout() {
        let text = "XfrmInError                     \t0\n\
                    XfrmOutNoStates\t\t3\n\
                    XfrmOutBundleGenError   18446744073709551615\n\
                    XfrmBrandNewCounter 7\n\
                    \n\
                    garbage line here\n\
                    XfrmNoValue\n\
                    XfrmNegative -1\n";
        assert_eq!(
            parse(text),
            vec![
                ("XfrmInError".to_owned(), 0),
                ("XfrmOutNoStates".to_owned(), 3),
                ("XfrmOutBundleGenError".to_owned(), u64::MAX),
                ("XfrmBrandNewCounter".to_owned(), 7),
            ]
        );
    }

    #[test]
    fn missing_file_is_unavailable() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("xfrm_stat");
        assert!(
            matches!(read(&missing), Availability::Unavailable(m) if m.contains("not present"))
        );
        std::fs::write(&missing, "XfrmOutPolBlock 2\n").unwrap();
        assert_eq!(
            read(&missing),
            Availability::Available(vec![("XfrmOutPolBlock".to_owned(), 2)])
        );
    }
}
