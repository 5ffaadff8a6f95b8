//! The offer envelope: one self-describing, versioned JSON document carrying the deal id,
//! creation and expiry times, the terms (base units and asset ids), the stage, the PSET in
//! base64 and the unblinding data of the maker's inputs, bound to the network by its genesis
//! hash. It never carries a ticker or an asset name: assets are ids, named only by what the
//! reader trusts.
//!
//! Parsing treats the text as hostile: unknown fields are refused (a version 1 reader does
//! not guess at what a field it does not know means), sizes are bounded, every hex field and
//! amount is checked. Nothing in it is trusted that the PSET can show: the terms are what
//! each side verifies the PSET against.

use std::str::FromStr;

use elements::confidential::{AssetBlindingFactor, ValueBlindingFactor};
use elements::pset::PartiallySignedTransaction;
use elements::{AssetId, BlockHash, OutPoint, Txid};
use serde::{Deserialize, Serialize};

use super::{Leg, Refusal, Terms};
use crate::network::Network;
use crate::store::DealRole;
use crate::unblind::TxOutSecrets;
use crate::{Error, Result};

/// The `format` field of every envelope.
pub const ENVELOPE_FORMAT: &str = "liquid-otc/dvp-offer";
/// The envelope version this build writes and reads.
pub const ENVELOPE_VERSION: u32 = 1;
/// Largest envelope accepted, in bytes.
pub const MAX_ENVELOPE_BYTES: usize = 4 * 1024 * 1024;
/// Most maker inputs an offer may carry.
pub const MAX_MAKER_INPUTS: usize = 64;
/// Longest memo, in characters.
pub const MAX_MEMO_CHARS: usize = 256;
/// Largest witness weight a maker may declare for one of its inputs (a 3-of-5 multisig needs
/// well under it).
pub const MAX_DECLARED_SATISFACTION: u64 = 4_000;

/// Longest an offer may stay open, from its creation to its expiry: 30 days. `offer create`
/// allows no more, and a taker refuses an offer that would keep it exposed longer.
pub const MAX_OFFER_LIFETIME_SECS: u64 = 30 * 24 * 3_600;
/// How far ahead of this machine's clock the maker's may be: 5 minutes. An offer made
/// further in the future, or expiring more than [`MAX_OFFER_LIFETIME_SECS`] plus this from
/// now, is refused.
pub const MAX_CLOCK_SKEW_SECS: u64 = 5 * 60;
/// Latest time an envelope may hold (seconds since the epoch): what the ledger (SQLite's
/// signed 64-bit integers) can store. A later one is malformed.
pub const MAX_TIME: u64 = i64::MAX as u64;

/// Where an offer stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    /// The maker's offer: its part only, unsigned, unblinded.
    Proposed,
    /// The taker's answer: the whole transaction, blinded, the taker's inputs signed.
    Accepted,
}

impl Stage {
    /// "proposed" or "accepted".
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Proposed => "proposed",
            Stage::Accepted => "accepted",
        }
    }
}

/// A maker input with what it takes to blind against it: its value, asset and blinding
/// factors, and the witness weight the maker will add when it signs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RevealedInput {
    /// The coin.
    pub outpoint: OutPoint,
    /// Its value, asset and blinding factors (checked to reopen the coin's commitments).
    pub secrets: TxOutSecrets,
    /// The largest witness the maker's signature will add (for the fee).
    pub satisfaction_weight: u64,
}

/// A parsed offer: typed, checked for form; not yet verified against a wallet.
#[derive(Clone, PartialEq)]
pub struct Offer {
    /// The network it is for.
    pub network: Network,
    /// The deal id (32 lowercase hex characters).
    pub deal_id: String,
    /// Its stage.
    pub stage: Stage,
    /// When the maker made it (seconds since the epoch).
    pub created_at: u64,
    /// When it expires.
    pub expires_at: u64,
    /// The terms.
    pub terms: Terms,
    /// The maker's memo (never trusted; shown as the maker's words).
    pub memo: Option<String>,
    /// The maker's inputs, in PSET order (the first inputs of the PSET).
    pub maker_inputs: Vec<RevealedInput>,
    /// The transaction.
    pub pset: PartiallySignedTransaction,
}

impl std::fmt::Debug for Offer {
    /// The deal, not the unblinding data of the maker's coins nor the whole PSET.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Offer")
            .field("network", &self.network)
            .field("deal_id", &self.deal_id)
            .field("stage", &self.stage)
            .field("expires_at", &self.expires_at)
            .field("terms", &self.terms)
            .field("maker_inputs", &self.maker_inputs.len())
            .finish_non_exhaustive()
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct LegJson {
    asset: String,
    amount: u64,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TermsJson {
    maker_gives: LegJson,
    maker_receives: LegJson,
    fee_payer: String,
    fee: Option<u64>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct InputJson {
    outpoint: String,
    asset: String,
    value: u64,
    asset_blinder: String,
    value_blinder: String,
    satisfaction_weight: u64,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct EnvelopeJson {
    format: String,
    version: u32,
    network: String,
    genesis_hash: String,
    deal_id: String,
    stage: Stage,
    created_at: u64,
    expires_at: u64,
    terms: TermsJson,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    memo: Option<String>,
    maker_inputs: Vec<InputJson>,
    pset: String,
}

/// Only the fields a reader needs to decide whether it can read the rest.
#[derive(Deserialize)]
struct Header {
    format: Option<String>,
    version: Option<u32>,
}

fn invalid(msg: impl Into<String>) -> Error {
    Error::InvalidOffer(msg.into())
}

/// A new deal id: 128 random bits from the operating system, in hex.
pub fn new_deal_id() -> Result<String> {
    let mut bytes = [0u8; 16];
    getrandom::getrandom(&mut bytes)
        .map_err(|e| Error::Crypto(format!("the operating system gave no randomness: {e}")))?;
    Ok(crate::chain::hex_lower(&bytes))
}

/// Whether `id` has the form of a deal id.
pub fn is_deal_id(id: &str) -> bool {
    id.len() == 32
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn check_memo(memo: &str) -> Result<()> {
    if memo.chars().count() > MAX_MEMO_CHARS {
        return Err(invalid(format!(
            "the memo is longer than {MAX_MEMO_CHARS} characters"
        )));
    }
    if memo.chars().any(char::is_control) {
        return Err(invalid("the memo holds control characters"));
    }
    Ok(())
}

impl Offer {
    /// Checks the memo a maker types: at most 256 characters, no control characters (a
    /// request the maker can fix: [`Error::InvalidRequest`]).
    pub fn check_memo(memo: &str) -> Result<()> {
        check_memo(memo).map_err(|e| match e {
            Error::InvalidOffer(why) => Error::InvalidRequest(why),
            other => other,
        })
    }

    /// Reads an envelope from `text`, the bare document or a JSON document holding it in an
    /// `envelope` field (what `--json` commands print).
    ///
    /// Form errors are [`Error::InvalidOffer`]; an unknown format version, another network or
    /// a genesis hash that is not `network`'s are refusals ([`Error::Offer`]).
    pub fn parse(text: &str, network: Network) -> Result<Offer> {
        if text.len() > MAX_ENVELOPE_BYTES {
            return Err(invalid(format!(
                "the text is {} bytes; an offer is at most {MAX_ENVELOPE_BYTES}",
                text.len()
            )));
        }
        let mut doc: serde_json::Value =
            serde_json::from_str(text.trim()).map_err(|e| invalid(format!("not JSON: {e}")))?;
        if doc.get("format").is_none() {
            if let Some(inner) = doc.get_mut("envelope").map(serde_json::Value::take) {
                doc = inner;
            }
        }
        let header: Header = serde_json::from_value(doc.clone())
            .map_err(|e| invalid(format!("not an offer envelope: {e}")))?;
        if header.format.as_deref() != Some(ENVELOPE_FORMAT) {
            return Err(invalid(format!(
                "its format is {:?}, not \"{ENVELOPE_FORMAT}\"",
                header.format.unwrap_or_default()
            )));
        }
        match header.version {
            Some(ENVELOPE_VERSION) => {}
            other => {
                return Err(Refusal::new(
                    "unknown_version",
                    format!(
                        "the envelope is version {}; this build reads version {ENVELOPE_VERSION}",
                        other.map_or("(none)".to_owned(), |v| v.to_string())
                    ),
                )
                .hint("upgrade liquid-otc, or ask the counterparty for a version 1 offer")
                .into())
            }
        }
        let raw: EnvelopeJson = serde_json::from_value(doc)
            .map_err(|e| invalid(format!("the envelope is malformed: {e}")))?;
        let found = Network::from_str(&raw.network).map_err(|_| {
            invalid(format!(
                "its network '{}' is not a Liquid network",
                raw.network
            ))
        })?;
        if found != network {
            return Err(Refusal::new(
                "wrong_network",
                format!("the offer is for {found}, this wallet is on {network}"),
            )
            .hint(format!("use a wallet of {found} (--network {found})"))
            .into());
        }
        let genesis = BlockHash::from_str(&raw.genesis_hash)
            .map_err(|_| invalid("its genesis_hash is not a block hash"))?;
        if Some(genesis) != network.genesis_hash() {
            return Err(Refusal::new(
                "wrong_network",
                format!(
                    "the offer is bound to the chain with genesis block {genesis}, not to \
                     {network}'s"
                ),
            )
            .hint("the counterparty is on another chain: do not trade on it")
            .into());
        }
        if !is_deal_id(&raw.deal_id) {
            return Err(invalid("its deal_id is not 32 lowercase hex characters"));
        }
        if raw.created_at > MAX_TIME || raw.expires_at > MAX_TIME {
            return Err(invalid(format!(
                "its created_at and expires_at must be seconds since the epoch up to {MAX_TIME}"
            )));
        }
        if raw.expires_at <= raw.created_at {
            return Err(invalid("it expires before it was made"));
        }
        if let Some(memo) = &raw.memo {
            check_memo(memo)?;
        }
        let asset = |s: &str| {
            AssetId::from_str(s).map_err(|_| invalid(format!("'{s}' is not an asset id")))
        };
        let fee_payer = match raw.terms.fee_payer.as_str() {
            "maker" => DealRole::Maker,
            "taker" => DealRole::Taker,
            other => {
                return Err(invalid(format!(
                    "fee_payer '{other}' is not maker or taker"
                )))
            }
        };
        let terms = Terms {
            maker_gives: Leg {
                asset: asset(&raw.terms.maker_gives.asset)?,
                amount: raw.terms.maker_gives.amount,
            },
            maker_receives: Leg {
                asset: asset(&raw.terms.maker_receives.asset)?,
                amount: raw.terms.maker_receives.amount,
            },
            fee_payer,
            fee: raw.terms.fee,
        };
        if raw.maker_inputs.is_empty() || raw.maker_inputs.len() > MAX_MAKER_INPUTS {
            return Err(invalid(format!(
                "it has {} maker inputs; an offer has 1 to {MAX_MAKER_INPUTS}",
                raw.maker_inputs.len()
            )));
        }
        let mut maker_inputs = Vec::new();
        for (i, input) in raw.maker_inputs.iter().enumerate() {
            let bad = |what: &str| invalid(format!("maker input {i}: {what}"));
            let (txid, vout) = input
                .outpoint
                .split_once(':')
                .ok_or_else(|| bad("the outpoint is not TXID:VOUT"))?;
            let outpoint = OutPoint::new(
                Txid::from_str(txid).map_err(|_| bad("the outpoint's txid is not a txid"))?,
                vout.parse()
                    .map_err(|_| bad("the outpoint's output index is not a number"))?,
            );
            if input.satisfaction_weight > MAX_DECLARED_SATISFACTION {
                return Err(bad(&format!(
                    "its declared witness weight {} is beyond {MAX_DECLARED_SATISFACTION}",
                    input.satisfaction_weight
                )));
            }
            let asset_bf = AssetBlindingFactor::from_str(&input.asset_blinder)
                .map_err(|_| bad("the asset blinder is not 32 bytes of hex"))?;
            let value_bf = ValueBlindingFactor::from_str(&input.value_blinder)
                .map_err(|_| bad("the value blinder is not 32 bytes of hex"))?;
            maker_inputs.push(RevealedInput {
                outpoint,
                secrets: TxOutSecrets {
                    value: input.value,
                    asset: asset(&input.asset)?,
                    asset_bf,
                    value_bf,
                    // Zero blinders: an explicit coin (its secrets must still open it).
                    explicit: asset_bf == AssetBlindingFactor::zero()
                        && value_bf == ValueBlindingFactor::zero(),
                },
                satisfaction_weight: input.satisfaction_weight,
            });
        }
        let pset = PartiallySignedTransaction::from_str(raw.pset.trim())
            .map_err(|e| invalid(format!("its PSET does not parse: {e}")))?;
        Ok(Offer {
            network,
            deal_id: raw.deal_id,
            stage: raw.stage,
            created_at: raw.created_at,
            expires_at: raw.expires_at,
            terms,
            memo: raw.memo,
            maker_inputs,
            pset,
        })
    }

    /// The envelope as JSON text (one document).
    pub fn to_json(&self) -> String {
        self.to_value().to_string()
    }

    /// The envelope as a JSON value.
    pub fn to_value(&self) -> serde_json::Value {
        let leg = |l: &Leg| LegJson {
            asset: l.asset.to_string(),
            amount: l.amount,
        };
        let raw = EnvelopeJson {
            format: ENVELOPE_FORMAT.to_owned(),
            version: ENVELOPE_VERSION,
            network: self.network.as_str().to_owned(),
            genesis_hash: self
                .network
                .genesis_hash()
                .map(|h| h.to_string())
                .unwrap_or_default(),
            deal_id: self.deal_id.clone(),
            stage: self.stage,
            created_at: self.created_at,
            expires_at: self.expires_at,
            terms: TermsJson {
                maker_gives: leg(&self.terms.maker_gives),
                maker_receives: leg(&self.terms.maker_receives),
                fee_payer: self.terms.fee_payer.as_str().to_owned(),
                fee: self.terms.fee,
            },
            memo: self.memo.clone(),
            maker_inputs: self
                .maker_inputs
                .iter()
                .map(|i| InputJson {
                    outpoint: crate::pset::outpoint_text(&i.outpoint),
                    asset: i.secrets.asset.to_string(),
                    value: i.secrets.value,
                    asset_blinder: i.secrets.asset_bf.to_string(),
                    value_blinder: i.secrets.value_bf.to_string(),
                    satisfaction_weight: i.satisfaction_weight,
                })
                .collect(),
            pset: self.pset.to_string(),
        };
        serde_json::to_value(raw).unwrap_or(serde_json::Value::Null)
    }

    /// Whether the offer has expired at `now` (seconds since the epoch).
    pub fn is_expired(&self, now: u64) -> bool {
        now >= self.expires_at
    }

    /// Refuses an offer that has expired at `now`.
    pub fn check_not_expired(&self, now: u64) -> std::result::Result<(), Refusal> {
        check_not_expired(&self.deal_id, self.expires_at, now)
    }

    /// Refuses times no honest maker writes, at `now`: made in the future (beyond
    /// [`MAX_CLOCK_SKEW_SECS`]), open longer than [`MAX_OFFER_LIFETIME_SECS`], or expiring
    /// more than that (plus the skew) from now. A taker that accepted such an offer would be
    /// exposed for as long as the maker chose, past what `deal expire` ever looks at.
    pub fn check_lifetime(&self, now: u64) -> std::result::Result<(), Refusal> {
        let days = MAX_OFFER_LIFETIME_SECS / 86_400;
        if self.created_at > now.saturating_add(MAX_CLOCK_SKEW_SECS) {
            return Err(Refusal::new(
                "bad_times",
                format!(
                    "the offer says it was made at {}, {} from now: a clock cannot be that far \
                     ahead",
                    utc_text(self.created_at),
                    humanize(self.created_at - now)
                ),
            )
            .hint("ask the counterparty to check its clock and make a new offer"));
        }
        if self.expires_at.saturating_sub(self.created_at) > MAX_OFFER_LIFETIME_SECS
            || self.expires_at
                > now
                    .saturating_add(MAX_OFFER_LIFETIME_SECS)
                    .saturating_add(MAX_CLOCK_SKEW_SECS)
        {
            return Err(Refusal::new(
                "bad_times",
                format!(
                    "the offer stays open until {}: more than {days} days, the longest an \
                     offer may last; you would be exposed that long",
                    utc_text(self.expires_at)
                ),
            )
            .hint(format!("ask for an offer that expires within {days} days")));
        }
        Ok(())
    }
}

/// A time for messages: "2100-01-01 00:00:00 UTC" (seconds since the epoch).
pub fn utc_text(secs: u64) -> String {
    let days = secs / 86_400;
    let rest = secs % 86_400;
    // Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rest / 3_600,
        (rest % 3_600) / 60,
        rest % 60
    )
}

/// Refuses deal `id` when `expires_at` has passed at `now`.
pub fn check_not_expired(id: &str, expires_at: u64, now: u64) -> std::result::Result<(), Refusal> {
    if now >= expires_at {
        return Err(Refusal::new(
            "expired",
            format!(
                "offer {id} expired {} ago",
                humanize(now.saturating_sub(expires_at))
            ),
        )
        .hint("ask the counterparty for a new offer"));
    }
    Ok(())
}

/// A duration in seconds for people: "42s", "5m 3s", "2h 1m", "3d 4h".
pub fn humanize(secs: u64) -> String {
    match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3_600 => format!("{}m {}s", s / 60, s % 60),
        s if s < 86_400 => format!("{}h {}m", s / 3_600, (s % 3_600) / 60),
        s => format!("{}d {}h", s / 86_400, (s % 86_400) / 3_600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Offer {
        let policy = Network::Regtest.default_policy_asset();
        let other = AssetId::from_str(&"11".repeat(32)).unwrap();
        Offer {
            network: Network::Regtest,
            deal_id: "0123456789abcdef0123456789abcdef".to_owned(),
            stage: Stage::Proposed,
            created_at: 1_000,
            expires_at: 2_800,
            terms: Terms {
                maker_gives: Leg {
                    asset: policy,
                    amount: 150_000_000,
                },
                maker_receives: Leg {
                    asset: other,
                    amount: 15_000_000,
                },
                fee_payer: DealRole::Taker,
                fee: None,
            },
            memo: Some("trade 17".to_owned()),
            maker_inputs: vec![RevealedInput {
                outpoint: OutPoint::new(Txid::from_str(&"22".repeat(32)).unwrap(), 1),
                secrets: TxOutSecrets::explicit(200_000_000, policy),
                satisfaction_weight: 108,
            }],
            pset: PartiallySignedTransaction::new_v2(),
        }
    }

    #[test]
    fn utc_text_says_the_date() {
        assert_eq!(utc_text(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc_text(4_102_444_800), "2100-01-01 00:00:00 UTC");
        assert_eq!(utc_text(951_825_600), "2000-02-29 12:00:00 UTC");
        assert_eq!(utc_text(1_700_000_000), "2023-11-14 22:13:20 UTC");
    }

    #[test]
    fn times_no_honest_maker_writes_are_refused() {
        let now = 10_000_000;
        let mut offer = sample();
        offer.created_at = now;
        offer.expires_at = now + MAX_OFFER_LIFETIME_SECS;
        assert!(offer.check_lifetime(now).is_ok());
        // A maker's clock a little ahead.
        offer.created_at = now + MAX_CLOCK_SKEW_SECS;
        offer.expires_at = offer.created_at + MAX_OFFER_LIFETIME_SECS;
        assert!(offer.check_lifetime(now).is_ok());
        offer.created_at = now + MAX_CLOCK_SKEW_SECS + 1;
        offer.expires_at = offer.created_at + 3_600;
        let r = offer.check_lifetime(now).unwrap_err();
        assert_eq!(r.code, "bad_times");
        assert!(r.reason.contains("5m 1s from now"), "{}", r.reason);
        // Open longer than 30 days.
        offer.created_at = now;
        offer.expires_at = now + MAX_OFFER_LIFETIME_SECS + 1;
        let r = offer.check_lifetime(now).unwrap_err();
        assert!(r.reason.contains("more than 30 days"), "{}", r.reason);
        // Made long ago, expiring far away.
        offer.created_at = 1_000;
        offer.expires_at = 4_102_444_800;
        let r = offer.check_lifetime(now).unwrap_err();
        assert!(
            r.reason
                .starts_with("the offer stays open until 2100-01-01"),
            "{}",
            r.reason
        );
    }

    #[test]
    fn times_beyond_the_ledger_are_malformed() {
        let good = sample().to_value();
        for (field, value) in [("expires_at", u64::MAX), ("created_at", 1u64 << 63)] {
            let mut v = good.clone();
            v[field] = value.into();
            if field == "created_at" {
                v["expires_at"] = u64::MAX.into();
            }
            assert!(matches!(
                Offer::parse(&v.to_string(), Network::Regtest),
                Err(Error::InvalidOffer(m)) if m.contains("seconds since the epoch up to 9223372036854775807")
            ));
        }
    }

    #[test]
    fn round_trips_bare_and_wrapped() {
        let offer = sample();
        let text = offer.to_json();
        assert_eq!(Offer::parse(&text, Network::Regtest).unwrap(), offer);
        let wrapped = serde_json::json!({ "envelope": offer.to_value(), "deal_id": "x" });
        assert_eq!(
            Offer::parse(&wrapped.to_string(), Network::Regtest).unwrap(),
            offer
        );
        assert!(!text.contains("ticker"));
    }

    #[test]
    fn hostile_envelopes_are_refused() {
        let good = sample().to_value();
        let with = |f: &dyn Fn(&mut serde_json::Value)| {
            let mut v = good.clone();
            f(&mut v);
            Offer::parse(&v.to_string(), Network::Regtest)
        };
        assert!(matches!(
            with(&|v| v["version"] = 2.into()),
            Err(Error::Offer(r)) if r.code == "unknown_version"
                && r.reason == "the envelope is version 2; this build reads version 1"
        ));
        assert!(matches!(
            Offer::parse(&good.to_string(), Network::Liquid),
            Err(Error::Offer(r)) if r.code == "wrong_network"
                && r.reason == "the offer is for regtest, this wallet is on liquid"
        ));
        assert!(matches!(
            with(&|v| v["genesis_hash"] = "00".repeat(32).into()),
            Err(Error::Offer(r)) if r.code == "wrong_network"
                && r.reason.starts_with("the offer is bound to the chain with genesis block 0000")
        ));
        assert!(matches!(
            with(&|v| v["ticker"] = "USDT".into()),
            Err(Error::InvalidOffer(m)) if m.starts_with("the envelope is malformed: unknown field `ticker`")
        ));
        assert!(matches!(
            with(&|v| v["terms"]["maker_gives"]["amount"] = (-1).into()),
            Err(Error::InvalidOffer(m)) if m.starts_with("the envelope is malformed: invalid value: integer `-1`, expected u64")
        ));
        assert!(matches!(
            with(&|v| v["maker_inputs"][0]["value_blinder"] = "zz".into()),
            Err(Error::InvalidOffer(m)) if m.starts_with("maker input 0: the value blinder is not 32 bytes of hex")
        ));
        assert!(matches!(
            with(&|v| v["memo"] = "a\u{1b}[31m".into()),
            Err(Error::InvalidOffer(m)) if m.starts_with("the memo holds control characters")
        ));
        assert!(matches!(
            Offer::parse("not json", Network::Regtest),
            Err(Error::InvalidOffer(m)) if m.starts_with("not JSON: ")
        ));
        assert!(is_deal_id(&new_deal_id().unwrap()));
    }
}
