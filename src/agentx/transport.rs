//! Where the master agent listens, and connecting to it (RFC 2741 §8).

use std::fmt;
use std::io;
use std::path::PathBuf;
use std::str::FromStr;

use std::net::Shutdown;
use std::time::Duration;

use tokio::net::{TcpStream, UnixStream};

/// net-snmp's default `agentXSocket`.
pub const DEFAULT_MASTER_SOCKET: &str = "/var/agentx/master";

/// The master agent's AgentX address, in net-snmp `agentXSocket` notation:
/// `unix:/path`, a bare `/path`, or `tcp:HOST:PORT` (`tcp:[::1]:705` for
/// IPv6 literals).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MasterAddr {
    Unix(PathBuf),
    Tcp { host: String, port: u16 },
}

impl Default for MasterAddr {
    fn default() -> Self {
        MasterAddr::Unix(PathBuf::from(DEFAULT_MASTER_SOCKET))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MasterAddrError {
    #[error("empty AgentX master address")]
    Empty,
    #[error("{0:?}: the socket path must be absolute")]
    RelativePath(String),
    #[error("{0:?}: expected tcp:HOST:PORT")]
    MissingPort(String),
    #[error("{0:?}: port must be a number in 1..=65535")]
    BadPort(String),
    #[error("{0:?}: bad host (write IPv6 addresses as [addr])")]
    BadHost(String),
    #[error(
        "{0:?}: unsupported AgentX address; use unix:/path, /path or tcp:HOST:PORT \
         (UDP is not an AgentX transport)"
    )]
    Unsupported(String),
}

impl FromStr for MasterAddr {
    type Err = MasterAddrError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.is_empty() {
            return Err(MasterAddrError::Empty);
        }
        if let Some(path) = s.strip_prefix("unix:") {
            if !path.starts_with('/') {
                return Err(MasterAddrError::RelativePath(s.to_owned()));
            }
            return Ok(MasterAddr::Unix(PathBuf::from(path)));
        }
        if s.starts_with('/') {
            return Ok(MasterAddr::Unix(PathBuf::from(s)));
        }
        if let Some(rest) = s.strip_prefix("tcp:") {
            return parse_tcp(s, rest);
        }
        Err(MasterAddrError::Unsupported(s.to_owned()))
    }
}

fn parse_tcp(whole: &str, rest: &str) -> Result<MasterAddr, MasterAddrError> {
    let (host, port) = rest
        .rsplit_once(':')
        .ok_or_else(|| MasterAddrError::MissingPort(whole.to_owned()))?;
    let bad_host = || MasterAddrError::BadHost(whole.to_owned());
    let host = match host.strip_prefix('[') {
        // A bracketed host must be an IPv6 literal; an unbracketed one must
        // not contain ':' or "tcp:::1:705" would be ambiguous.
        Some(inner) => inner
            .strip_suffix(']')
            .filter(|a| a.parse::<std::net::Ipv6Addr>().is_ok())
            .ok_or_else(bad_host)?,
        None if host.is_empty() || host.contains([':', '[', ']']) => return Err(bad_host()),
        None if host.contains(char::is_whitespace) => return Err(bad_host()),
        None => host,
    };
    let port = port
        .parse::<u16>()
        .ok()
        .filter(|&p| p != 0)
        .ok_or_else(|| MasterAddrError::BadPort(whole.to_owned()))?;
    Ok(MasterAddr::Tcp {
        host: host.to_owned(),
        port,
    })
}

impl fmt::Display for MasterAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MasterAddr::Unix(path) => write!(f, "unix:{}", path.display()),
            MasterAddr::Tcp { host, port } if host.contains(':') => {
                write!(f, "tcp:[{host}]:{port}")
            }
            MasterAddr::Tcp { host, port } => write!(f, "tcp:{host}:{port}"),
        }
    }
}

/// A connected, blocking byte stream to the master, whatever the transport.
///
/// Blocking because requests are answered on a thread of their own (see
/// `session::responder`); connecting is still async, so it can be timed
/// out and cancelled like the rest of the session.
#[derive(Debug)]
pub enum MasterStream {
    Unix(std::os::unix::net::UnixStream),
    Tcp(std::net::TcpStream),
}

impl MasterAddr {
    pub async fn connect(&self) -> io::Result<MasterStream> {
        let stream = match self {
            MasterAddr::Unix(path) => {
                MasterStream::Unix(UnixStream::connect(path).await?.into_std()?)
            }
            MasterAddr::Tcp { host, port } => {
                let stream = TcpStream::connect((host.as_str(), *port)).await?;
                // PDUs are small request/response exchanges; Nagle would only
                // add latency to every SNMP request.
                stream.set_nodelay(true)?;
                MasterStream::Tcp(stream.into_std()?)
            }
        };
        stream.set_nonblocking(false)?;
        Ok(stream)
    }
}

impl MasterStream {
    /// A second handle on the same connection (one reads, one writes).
    pub fn try_clone(&self) -> io::Result<MasterStream> {
        Ok(match self {
            MasterStream::Unix(s) => MasterStream::Unix(s.try_clone()?),
            MasterStream::Tcp(s) => MasterStream::Tcp(s.try_clone()?),
        })
    }

    fn set_nonblocking(&self, on: bool) -> io::Result<()> {
        match self {
            MasterStream::Unix(s) => s.set_nonblocking(on),
            MasterStream::Tcp(s) => s.set_nonblocking(on),
        }
    }

    /// Bounds every write on this connection (all handles share it).
    pub fn set_write_timeout(&self, limit: Duration) -> io::Result<()> {
        match self {
            MasterStream::Unix(s) => s.set_write_timeout(Some(limit)),
            MasterStream::Tcp(s) => s.set_write_timeout(Some(limit)),
        }
    }

    /// Ends the connection for every handle: a blocked reader wakes to EOF.
    pub fn shutdown(&self) -> io::Result<()> {
        match self {
            MasterStream::Unix(s) => s.shutdown(Shutdown::Both),
            MasterStream::Tcp(s) => s.shutdown(Shutdown::Both),
        }
    }
}

impl io::Read for MasterStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            MasterStream::Unix(s) => io::Read::read(s, buf),
            MasterStream::Tcp(s) => io::Read::read(s, buf),
        }
    }
}

impl io::Write for MasterStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            MasterStream::Unix(s) => io::Write::write(s, buf),
            MasterStream::Tcp(s) => io::Write::write(s, buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use tokio::io::AsyncReadExt;

    use super::*;

    fn parse(s: &str) -> Result<MasterAddr, MasterAddrError> {
        s.parse()
    }

    #[test]
    fn parses_net_snmp_notations() {
        assert_eq!(
            parse("unix:/var/agentx/master").unwrap(),
            MasterAddr::default()
        );
        assert_eq!(
            parse("/tmp/x/master").unwrap(),
            MasterAddr::Unix("/tmp/x/master".into())
        );
        assert_eq!(
            parse("tcp:localhost:705").unwrap(),
            MasterAddr::Tcp {
                host: "localhost".into(),
                port: 705
            }
        );
        assert_eq!(
            parse("tcp:[::1]:705").unwrap(),
            MasterAddr::Tcp {
                host: "::1".into(),
                port: 705
            }
        );
        assert_eq!(
            parse(" tcp:127.0.0.1:1705 ").unwrap().to_string(),
            "tcp:127.0.0.1:1705"
        );
        assert_eq!(parse("tcp:[::1]:705").unwrap().to_string(), "tcp:[::1]:705");
        assert_eq!(MasterAddr::default().to_string(), "unix:/var/agentx/master");
    }

    #[test]
    fn rejects_with_a_reason() {
        assert_eq!(parse(""), Err(MasterAddrError::Empty));
        assert!(matches!(
            parse("unix:"),
            Err(MasterAddrError::RelativePath(_))
        ));
        assert!(matches!(
            parse("unix:var/x"),
            Err(MasterAddrError::RelativePath(_))
        ));
        assert!(matches!(
            parse("tcp:localhost"),
            Err(MasterAddrError::MissingPort(_))
        ));
        assert!(matches!(
            parse("tcp:localhost:x"),
            Err(MasterAddrError::BadPort(_))
        ));
        assert!(matches!(
            parse("tcp:localhost:0"),
            Err(MasterAddrError::BadPort(_))
        ));
        assert!(matches!(
            parse("tcp:localhost:70000"),
            Err(MasterAddrError::BadPort(_))
        ));
        for bad_host in [
            "tcp::705",
            "tcp:::1:705",
            "tcp:[::1:705",
            "tcp:[nope]:705",
            "tcp:a b:1",
        ] {
            assert!(
                matches!(parse(bad_host), Err(MasterAddrError::BadHost(_))),
                "{bad_host}"
            );
        }
        assert!(matches!(
            parse("udp:localhost:705"),
            Err(MasterAddrError::Unsupported(_))
        ));
        assert!(matches!(
            parse("localhost:705"),
            Err(MasterAddrError::Unsupported(_))
        ));
        let msg = parse("udp:x:1").unwrap_err().to_string();
        assert!(msg.contains("tcp:HOST:PORT"), "{msg}");
    }

    #[tokio::test]
    async fn connects_over_unix_and_tcp() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master");
        let unix = tokio::net::UnixListener::bind(&path).unwrap();
        let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = tcp.local_addr().unwrap().port();

        for addr in [
            MasterAddr::Unix(path.clone()),
            format!("tcp:127.0.0.1:{port}").parse().unwrap(),
        ] {
            let mut client = addr.connect().await.unwrap();
            client.write_all(b"ping").unwrap();
            let mut buf = [0u8; 4];
            match &addr {
                MasterAddr::Unix(_) => unix.accept().await.unwrap().0.read_exact(&mut buf).await,
                MasterAddr::Tcp { .. } => tcp.accept().await.unwrap().0.read_exact(&mut buf).await,
            }
            .unwrap();
            assert_eq!(&buf, b"ping");
        }

        let missing = MasterAddr::Unix(dir.path().join("absent"));
        assert!(missing.connect().await.is_err());
    }
}
