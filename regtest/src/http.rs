//! The HTTP/1.1 server under the sandbox's Esplora API: one thread per connection, kept
//! alive as long as the client keeps it, `Content-Length` bodies.
//!
//! tiny_http served this before, and its thread pool could leave a new connection waiting
//! behind kept-alive idle ones: when several connections arrived at once, its pool counted
//! idle threads that had already been handed a connection, queued the rest, and every thread
//! then sat reading an idle kept-alive connection, so a queued connection got no answer until
//! the client gave up (30 s). Clients that keep a pool of connections (ureq) met it about
//! once in five runs. A thread per connection cannot starve, and on loopback the connections
//! are few.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use crate::service::Service;

/// Largest request head (request line and headers) read.
const MAX_HEAD: usize = 64 * 1024;
/// Largest request body read (a transaction in hex is far smaller).
const MAX_BODY: usize = 8 << 20;

/// A request as the Esplora handler needs it.
pub(crate) struct Request {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The path and query, e.g. `/tx/<txid>/hex`.
    pub url: String,
    /// The body (empty without one).
    pub body: Vec<u8>,
}

/// An answer: status, content type, an optional `Cache-Control: max-age`, body.
pub(crate) struct Reply {
    pub status: u16,
    pub content_type: &'static str,
    pub ttl: Option<u64>,
    pub body: Vec<u8>,
}

/// Accepts connections on `listener` until the service shuts down, each on its own thread
/// (tracked by the service, which closes them at shutdown), answering with `handle`.
pub(crate) fn serve(
    svc: Arc<Service>,
    listener: TcpListener,
    delay_ms: u64,
    handle: fn(&Service, &Request) -> Reply,
) {
    for stream in listener.incoming() {
        if svc.is_shutting_down() {
            break;
        }
        let Ok(stream) = stream else { continue };
        let _ = stream.set_nodelay(true);
        if let Ok(clone) = stream.try_clone() {
            svc.track_stream(clone);
        }
        let svc2 = svc.clone();
        let h = std::thread::spawn(move || connection(&svc2, stream, delay_ms, handle));
        svc.track_thread(h);
    }
}

/// Answers the requests of one connection in order until the client closes it, asks to
/// close it, or sends something that is not HTTP; then closes it (the service keeps a clone
/// of every stream to close them at shutdown, so dropping ours would not).
fn connection(
    svc: &Service,
    stream: TcpStream,
    delay_ms: u64,
    handle: fn(&Service, &Request) -> Reply,
) {
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    answer_all(svc, stream, &mut writer, delay_ms, handle);
    let _ = writer.shutdown(std::net::Shutdown::Both);
}

fn answer_all(
    svc: &Service,
    stream: TcpStream,
    writer: &mut TcpStream,
    delay_ms: u64,
    handle: fn(&Service, &Request) -> Reply,
) {
    let mut reader = BufReader::new(stream);
    loop {
        let (request, close) = match read_request(&mut reader) {
            Ok(Some(r)) => r,
            Ok(None) => return,
            Err(status) => {
                let reply = Reply {
                    status,
                    content_type: "text/plain",
                    ttl: None,
                    body: b"malformed request".to_vec(),
                };
                let _ = write_reply(writer, &reply, true);
                return;
            }
        };
        if svc.is_shutting_down() {
            return;
        }
        let reply = handle(svc, &request);
        if delay_ms > 0 {
            std::thread::sleep(Duration::from_millis(delay_ms));
        }
        if write_reply(writer, &reply, close).is_err() || close {
            return;
        }
    }
}

/// Reads one request: `Ok(None)` when the client closed the connection before a new one,
/// `Err(status)` when what came is not a request this server takes. The flag says whether
/// the client asked to close the connection after it.
fn read_request(reader: &mut impl BufRead) -> Result<Option<(Request, bool)>, u16> {
    let mut line = String::new();
    let mut head_len = 0;
    // Tolerate blank lines between requests (RFC 9112, 2.2).
    loop {
        line.clear();
        match reader.read_line(&mut line) {
            Ok(0) => return Ok(None),
            Ok(n) => head_len += n,
            Err(_) => return Ok(None),
        }
        if !line.trim().is_empty() {
            break;
        }
    }
    let mut parts = line.split_whitespace();
    let (Some(method), Some(url), Some(version)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(400);
    };
    let (method, url) = (method.to_owned(), url.to_owned());
    let mut close = version == "HTTP/1.0";
    let mut length = 0usize;
    loop {
        line.clear();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return Err(400),
            Ok(n) => head_len += n,
        }
        if head_len > MAX_HEAD {
            return Err(431);
        }
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        let Some((name, value)) = header.split_once(':') else {
            return Err(400);
        };
        let (name, value) = (name.trim().to_ascii_lowercase(), value.trim());
        match name.as_str() {
            "content-length" => length = value.parse().map_err(|_| 400u16)?,
            "connection" => {
                let value = value.to_ascii_lowercase();
                if value.contains("close") {
                    close = true;
                } else if value.contains("keep-alive") {
                    close = false;
                }
            }
            // Bodies are small and sent with a length; a chunked one is refused.
            "transfer-encoding" => return Err(411),
            _ => {}
        }
    }
    if length > MAX_BODY {
        return Err(413);
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).map_err(|_| 400u16)?;
    Ok(Some((Request { method, url, body }, close)))
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        411 => "Length Required",
        413 => "Payload Too Large",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

fn write_reply(writer: &mut TcpStream, reply: &Reply, close: bool) -> std::io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n",
        reply.status,
        reason(reply.status),
        reply.content_type,
        reply.body.len()
    );
    if let Some(ttl) = reply.ttl {
        head.push_str(&format!("Cache-Control: public, max-age={ttl}\r\n"));
    }
    if close {
        head.push_str("Connection: close\r\n");
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(&reply.body);
    writer.write_all(&bytes)?;
    writer.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &str) -> Result<Option<(Request, bool)>, u16> {
        read_request(&mut BufReader::new(raw.as_bytes()))
    }

    #[test]
    fn requests_are_read_with_their_bodies_and_connection_wishes() {
        let (r, close) = parse("GET /blocks/tip/height HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap()
            .unwrap();
        assert_eq!(
            (r.method.as_str(), r.url.as_str(), close),
            ("GET", "/blocks/tip/height", false)
        );
        let (r, close) =
            parse("POST /tx HTTP/1.1\r\nContent-Length: 4\r\nConnection: close\r\n\r\nabcd")
                .unwrap()
                .unwrap();
        assert_eq!((r.body.as_slice(), close), (&b"abcd"[..], true));
        assert!(parse("").unwrap().is_none());
        assert_eq!(parse("GARBAGE\r\n\r\n").err(), Some(400));
        assert_eq!(
            parse("POST /tx HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n").err(),
            Some(411)
        );
        assert_eq!(
            parse("POST /tx HTTP/1.1\r\nContent-Length: 999999999\r\n\r\n").err(),
            Some(413)
        );
    }
}
