//! Which server to talk to and how: URL parsing, per-network defaults, timeouts, retries.

use std::fmt;
use std::time::Duration;

use elements::BlockHash;

use super::{Backend, ElectrumBackend, EsploraBackend};
use crate::network::Network;
use crate::{Error, Result};

/// Esplora or Electrum.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BackendKind {
    /// Esplora REST API (HTTP or HTTPS).
    Esplora,
    /// Electrum protocol (TCP or TLS).
    Electrum,
}

impl fmt::Display for BackendKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BackendKind::Esplora => "esplora",
            BackendKind::Electrum => "electrum",
        })
    }
}

/// Where the server is.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// An Esplora base URL without the trailing slash, e.g. `http://127.0.0.1:3000`.
    Esplora {
        /// The base URL.
        url: String,
    },
    /// An Electrum server.
    Electrum {
        /// Host name or IP address (IPv6 without brackets).
        host: String,
        /// TCP port.
        port: u16,
        /// TLS (`tls://` or `ssl://`) or plain TCP (`tcp://` or no scheme).
        tls: bool,
    },
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Esplora { url } => f.write_str(url),
            Endpoint::Electrum { host, port, tls } => {
                let scheme = if *tls { "tls" } else { "tcp" };
                if host.contains(':') {
                    write!(f, "{scheme}://[{host}]:{port}")
                } else {
                    write!(f, "{scheme}://{host}:{port}")
                }
            }
        }
    }
}

/// How to reach a chain backend. Build one with [`BackendConfig::parse_esplora`],
/// [`BackendConfig::parse_electrum`] or [`BackendConfig::default_for`], adjust it with the
/// `with_*` methods, then [`BackendConfig::connect`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackendConfig {
    /// The server.
    pub endpoint: Endpoint,
    /// Timeout of one request (connect, send and receive): default 30 s.
    pub timeout: Duration,
    /// Esplora: how many HTTP requests may be in flight at once, over as many kept-alive
    /// connections (default [`DEFAULT_CONCURRENCY`], at least 1). Halved for the rest of the
    /// backend's life each time the server answers 429 or 503.
    pub concurrency: usize,
    /// How many times a failed read-only request is retried (default 3). Retried: refused or
    /// reset connections, truncated bodies, HTTP 429 and 5xx. Never retried: timeouts (so a
    /// dead server fails within about `timeout`), answers that are wrong, and broadcasts.
    pub retries: u32,
    /// Wait before the first retry, doubled before each next one (default 250 ms).
    pub retry_backoff: Duration,
    /// The network the server must serve: its genesis block hash is checked once per
    /// connection, and a server on another chain is refused ([`crate::Error::WrongChain`]).
    /// `None` (the default) checks nothing, for a custom chain whose genesis is not known.
    pub network: Option<Network>,
}

/// Esplora requests in flight by default ([`BackendConfig::concurrency`]): at a 50 ms round
/// trip, 32 keep a 1,000-transaction first sync near its floor; a public server sees at most
/// 32 kept-alive connections from one wallet, fewer once it asks to slow down.
pub const DEFAULT_CONCURRENCY: usize = 32;

/// Blockstream's public Liquid Esplora.
pub const LIQUID_ESPLORA: &str = "https://blockstream.info/liquid/api";
/// Blockstream's public Liquid testnet Esplora.
pub const LIQUID_TESTNET_ESPLORA: &str = "https://blockstream.info/liquidtestnet/api";
/// Blockstream's public Liquid Electrum server (TLS).
pub const LIQUID_ELECTRUM: &str = "tls://blockstream.info:995";
/// Blockstream's public Liquid testnet Electrum server (TLS).
pub const LIQUID_TESTNET_ELECTRUM: &str = "tls://blockstream.info:465";

fn bad(msg: impl Into<String>) -> Error {
    Error::BackendConfig(msg.into())
}

impl BackendConfig {
    fn with_endpoint(endpoint: Endpoint) -> Self {
        BackendConfig {
            endpoint,
            timeout: Duration::from_secs(30),
            concurrency: DEFAULT_CONCURRENCY,
            retries: 3,
            retry_backoff: Duration::from_millis(250),
            network: None,
        }
    }

    /// Parses an Esplora base URL: `http://host[:port][/path]` or `https://...`.
    pub fn parse_esplora(url: &str) -> Result<Self> {
        let url = url.trim();
        let rest = url
            .strip_prefix("http://")
            .or_else(|| url.strip_prefix("https://"))
            .ok_or_else(|| {
                bad(format!(
                    "Esplora URL '{url}' must start with http:// or https:// (e.g. http://127.0.0.1:3000)"
                ))
            })?;
        let authority = rest.split('/').next().unwrap_or("");
        if authority.is_empty() {
            return Err(bad(format!("Esplora URL '{url}' has no host")));
        }
        if authority.contains(char::is_whitespace) || authority.contains('@') {
            return Err(bad(format!(
                "Esplora URL '{url}' has an invalid host '{authority}'"
            )));
        }
        let port = match authority.strip_prefix('[') {
            Some(v6) => match v6.split_once(']') {
                Some((_, after)) => after.strip_prefix(':'),
                None => return Err(bad(format!("Esplora URL '{url}' has an invalid host"))),
            },
            None => authority.split_once(':').map(|(_, p)| p),
        };
        if let Some(port) = port {
            if port.parse::<u16>().is_err() {
                return Err(bad(format!(
                    "Esplora URL '{url}' has an invalid port '{port}'"
                )));
            }
        }
        Ok(Self::with_endpoint(Endpoint::Esplora {
            url: url.trim_end_matches('/').to_owned(),
        }))
    }

    /// Parses an Electrum server: `tcp://host:port`, `tls://host:port` (also `ssl://`), or
    /// `host:port` (plain TCP). IPv6 hosts go in brackets: `tcp://[::1]:50001`.
    pub fn parse_electrum(url: &str) -> Result<Self> {
        let url = url.trim();
        let (tls, rest) = if let Some(r) = url.strip_prefix("tcp://") {
            (false, r)
        } else if let Some(r) = url
            .strip_prefix("tls://")
            .or_else(|| url.strip_prefix("ssl://"))
        {
            (true, r)
        } else if url.contains("://") {
            return Err(bad(format!(
                "Electrum server '{url}': unknown scheme; use tcp://host:port, tls://host:port or host:port"
            )));
        } else {
            (false, url)
        };
        let rest = rest.trim_end_matches('/');
        let (host, port) = rest.rsplit_once(':').ok_or_else(|| {
            bad(format!(
                "Electrum server '{url}' needs a port: host:port, e.g. 127.0.0.1:50001"
            ))
        })?;
        let host = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        if host.is_empty() || host.contains(['/', ' ', '@']) {
            return Err(bad(format!("Electrum server '{url}' has an invalid host")));
        }
        let port: u16 = port.parse().ok().filter(|p| *p != 0).ok_or_else(|| {
            bad(format!(
                "Electrum server '{url}' has an invalid port '{port}'"
            ))
        })?;
        Ok(Self::with_endpoint(Endpoint::Electrum {
            host: host.to_owned(),
            port,
            tls,
        }))
    }

    /// The default server of `network`: Blockstream's public servers for Liquid and Liquid
    /// testnet. Regtest has none: the error says how to start the sandbox and point at it.
    pub fn default_for(network: Network, kind: BackendKind) -> Result<Self> {
        match (network, kind) {
            (Network::Liquid, BackendKind::Esplora) => Self::parse_esplora(LIQUID_ESPLORA),
            (Network::LiquidTestnet, BackendKind::Esplora) => {
                Self::parse_esplora(LIQUID_TESTNET_ESPLORA)
            }
            (Network::Liquid, BackendKind::Electrum) => Self::parse_electrum(LIQUID_ELECTRUM),
            (Network::LiquidTestnet, BackendKind::Electrum) => {
                Self::parse_electrum(LIQUID_TESTNET_ELECTRUM)
            }
            (Network::Regtest, _) => Err(bad(
                "regtest has no default server: start one with `liquid-otc sandbox start` and \
                 pass the URL it prints with --esplora URL or --electrum HOST:PORT",
            )),
        }
    }

    /// Sets the per-request timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets how many Esplora requests may be in flight at once (at least 1).
    pub fn with_concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// Sets how many times a failed read-only request is retried.
    pub fn with_retries(mut self, n: u32) -> Self {
        self.retries = n;
        self
    }

    /// Sets the wait before the first retry (doubled before each next one).
    pub fn with_retry_backoff(mut self, d: Duration) -> Self {
        self.retry_backoff = d;
        self
    }

    /// Sets the network whose genesis block the server must have (checked once per
    /// connection: Esplora's `/block-height/0` in the first parallel pool, Electrum's header 0
    /// in the first burst of each connection).
    pub fn with_network(mut self, network: Network) -> Self {
        self.network = Some(network);
        self
    }

    /// The network and its genesis block hash to check the server against, if any.
    pub(crate) fn expected_genesis(&self) -> Option<(Network, BlockHash)> {
        let network = self.network?;
        Some((network, network.genesis_hash()?))
    }

    /// Esplora or Electrum.
    pub fn kind(&self) -> BackendKind {
        match self.endpoint {
            Endpoint::Esplora { .. } => BackendKind::Esplora,
            Endpoint::Electrum { .. } => BackendKind::Electrum,
        }
    }

    /// The server as a URL, as error messages show it.
    pub fn url(&self) -> String {
        self.endpoint.to_string()
    }

    /// The wait before retry number `attempt` (1-based), capped at 10 s.
    pub(crate) fn backoff(&self, attempt: u32) -> Duration {
        let factor = 1u32 << attempt.saturating_sub(1).min(16);
        self.retry_backoff
            .saturating_mul(factor)
            .min(Duration::from_secs(10))
    }

    /// Builds the backend. Esplora connects lazily; Electrum connects (and handshakes) now,
    /// so an unreachable server is reported here.
    pub fn connect(&self) -> Result<Box<dyn Backend>> {
        Ok(match self.kind() {
            BackendKind::Esplora => Box::new(EsploraBackend::new(self.clone())?),
            BackendKind::Electrum => Box::new(ElectrumBackend::connect(self.clone())?),
        })
    }
}
