//! One VICI connection to charon: commands (plain and streaming), event
//! registration and event reception over a Unix or TCP stream.
//!
//! The client sets no timeouts itself; callers bound every call with
//! `tokio::time::timeout` and drop the client when one fires (a cancelled
//! read leaves the stream mid-packet, so it cannot be reused).

use std::collections::VecDeque;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UnixStream};

use super::message::Message;
use super::packet::{FrameDecoder, Packet, PacketError, PacketKind};

/// charon's default VICI socket.
pub const DEFAULT_SOCKET: &str = "/var/run/charon.vici";

/// Events received while waiting for a command's response are kept for
/// [`Client::next_event`], at most this many (the oldest are dropped).
const MAX_QUEUED_EVENTS: usize = 256;

/// Where charon listens: `unix:PATH` (also `unix://PATH` and a bare
/// absolute path) or `tcp:HOST:PORT` (also `tcp://HOST:PORT`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    Unix(PathBuf),
    Tcp(String),
}

impl Default for Endpoint {
    fn default() -> Self {
        Endpoint::Unix(PathBuf::from(DEFAULT_SOCKET))
    }
}

impl FromStr for Endpoint {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        if let Some(rest) = s.strip_prefix("unix:") {
            let path = rest.strip_prefix("//").unwrap_or(rest);
            if path.is_empty() {
                return Err(format!("{s}: empty socket path"));
            }
            Ok(Endpoint::Unix(PathBuf::from(path)))
        } else if let Some(rest) = s.strip_prefix("tcp:") {
            let addr = rest.strip_prefix("//").unwrap_or(rest);
            match addr.rsplit_once(':') {
                Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => {
                    Ok(Endpoint::Tcp(addr.to_owned()))
                }
                _ => Err(format!("{s}: expected tcp:HOST:PORT")),
            }
        } else if s.starts_with('/') {
            Ok(Endpoint::Unix(PathBuf::from(s)))
        } else {
            Err(format!("{s}: expected unix:PATH or tcp:HOST:PORT"))
        }
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Unix(path) => write!(f, "unix:{}", path.display()),
            Endpoint::Tcp(addr) => write!(f, "tcp:{addr}"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("malformed packet from charon: {0}")]
    Packet(#[from] PacketError),
    #[error("charon closed the connection")]
    Closed,
    #[error("charon does not know the command {0:?}")]
    UnknownCommand(String),
    #[error("charon does not know the event {0:?}")]
    UnknownEvent(String),
    #[error("unexpected {0:?} packet from charon")]
    Unexpected(PacketKind),
    #[error("{cmd} streamed more than {max} {event} events")]
    TooManyEvents {
        cmd: String,
        event: String,
        max: usize,
    },
}

enum Stream {
    Unix(UnixStream),
    Tcp(TcpStream),
}

pub struct Client {
    stream: Stream,
    frames: FrameDecoder,
    queued_events: VecDeque<(String, Message)>,
}

impl Client {
    pub async fn connect(endpoint: &Endpoint) -> Result<Client, ClientError> {
        let stream = match endpoint {
            Endpoint::Unix(path) => Stream::Unix(UnixStream::connect(path).await?),
            Endpoint::Tcp(addr) => {
                let tcp = TcpStream::connect(addr.as_str()).await?;
                tcp.set_nodelay(true)?;
                Stream::Tcp(tcp)
            }
        };
        Ok(Client {
            stream,
            frames: FrameDecoder::new(),
            queued_events: VecDeque::new(),
        })
    }

    async fn send(&mut self, packet: &Packet) -> Result<(), ClientError> {
        let bytes = packet.encode()?;
        match &mut self.stream {
            Stream::Unix(s) => s.write_all(&bytes).await?,
            Stream::Tcp(s) => s.write_all(&bytes).await?,
        }
        Ok(())
    }

    async fn receive(&mut self) -> Result<Packet, ClientError> {
        let mut chunk = [0u8; 16 * 1024];
        loop {
            if let Some(frame) = self.frames.next_frame()? {
                return Ok(Packet::decode(&frame)?);
            }
            let want = self.frames.wanted().min(chunk.len());
            let n = match &mut self.stream {
                Stream::Unix(s) => s.read(&mut chunk[..want]).await?,
                Stream::Tcp(s) => s.read(&mut chunk[..want]).await?,
            };
            if n == 0 {
                return Err(ClientError::Closed);
            }
            self.frames.extend(&chunk[..n]);
        }
    }

    fn queue_event(&mut self, packet: Packet) {
        if self.queued_events.len() == MAX_QUEUED_EVENTS {
            self.queued_events.pop_front();
        }
        self.queued_events.push_back((packet.name, packet.message));
    }

    async fn event_registration(
        &mut self,
        kind: PacketKind,
        event: &str,
    ) -> Result<(), ClientError> {
        self.send(&Packet::new(kind, event, Message::new())).await?;
        loop {
            let packet = self.receive().await?;
            match packet.kind {
                PacketKind::EventConfirm => return Ok(()),
                PacketKind::EventUnknown => {
                    return Err(ClientError::UnknownEvent(event.to_owned()))
                }
                PacketKind::Event => self.queue_event(packet),
                other => return Err(ClientError::Unexpected(other)),
            }
        }
    }

    /// Asks charon to send `event` on this connection.
    pub async fn register(&mut self, event: &str) -> Result<(), ClientError> {
        self.event_registration(PacketKind::EventRegister, event)
            .await
    }

    pub async fn unregister(&mut self, event: &str) -> Result<(), ClientError> {
        self.event_registration(PacketKind::EventUnregister, event)
            .await
    }

    /// A command whose answer is its response message alone.
    pub async fn request(&mut self, cmd: &str, message: Message) -> Result<Message, ClientError> {
        let (_, response) = self.stream_request(cmd, message, "", 0).await?;
        Ok(response)
    }

    /// A streaming command (`list-sas`, `list-conns`, …): charon sends one
    /// `event` per item before the response. The connection must already
    /// be registered for `event`. More than `max_events` items is an error
    /// (the connection is then mid-stream and must be dropped).
    pub async fn stream_request(
        &mut self,
        cmd: &str,
        message: Message,
        event: &str,
        max_events: usize,
    ) -> Result<(Vec<Message>, Message), ClientError> {
        self.send(&Packet::new(PacketKind::CmdRequest, cmd, message))
            .await?;
        let mut items = Vec::new();
        loop {
            let packet = self.receive().await?;
            match packet.kind {
                PacketKind::CmdResponse => return Ok((items, packet.message)),
                PacketKind::CmdUnknown => return Err(ClientError::UnknownCommand(cmd.to_owned())),
                PacketKind::Event if !event.is_empty() && packet.name == event => {
                    if items.len() == max_events {
                        return Err(ClientError::TooManyEvents {
                            cmd: cmd.to_owned(),
                            event: event.to_owned(),
                            max: max_events,
                        });
                    }
                    items.push(packet.message);
                }
                PacketKind::Event => self.queue_event(packet),
                other => return Err(ClientError::Unexpected(other)),
            }
        }
    }

    /// The next event (name, message) this connection is registered for.
    pub async fn next_event(&mut self) -> Result<(String, Message), ClientError> {
        if let Some(event) = self.queued_events.pop_front() {
            return Ok(event);
        }
        let packet = self.receive().await?;
        match packet.kind {
            PacketKind::Event => Ok((packet.name, packet.message)),
            other => Err(ClientError::Unexpected(other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_endpoints() {
        let unix = |p: &str| Endpoint::Unix(PathBuf::from(p));
        assert_eq!("unix:/run/x.vici".parse(), Ok(unix("/run/x.vici")));
        assert_eq!("unix:///run/x.vici".parse(), Ok(unix("/run/x.vici")));
        assert_eq!("/run/x.vici".parse(), Ok(unix("/run/x.vici")));
        assert_eq!(
            "tcp:127.0.0.1:4502".parse(),
            Ok(Endpoint::Tcp("127.0.0.1:4502".into()))
        );
        assert_eq!(
            "tcp://[::1]:4502".parse(),
            Ok(Endpoint::Tcp("[::1]:4502".into()))
        );
        for bad in ["unix:", "tcp:host", "tcp::1", "tcp:h:99999", "charon.vici"] {
            assert!(bad.parse::<Endpoint>().is_err(), "{bad}");
        }
        assert_eq!(Endpoint::default().to_string(), "unix:/var/run/charon.vici");
    }
}
