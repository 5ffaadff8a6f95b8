//! Reading one script's history from Esplora's pages (`/scripthash/:hash/txs`, then
//! `/txs/chain[/:last_seen]`), as the two electrs lines in service answer them.
//!
//! - Blockstream's electrs (blockstream.info; the recorded fixtures): the first page lists the
//!   mempool transactions (at most 50), then at most 25 confirmed ones, newest first.
//! - mempool.space's electrs (liquid.network; the binary in `../shared/real-stack/`): the first
//!   page lists the mempool transactions **twice** (its handler extends the list with the
//!   mempool history two times), then confirmed ones up to 50 entries in all. So a page with
//!   fewer than 25 confirmed transactions is not necessarily the last, and the same unconfirmed
//!   transaction appears twice.
//!
//! A transaction listed twice on one page is the same transaction (the confirmed listing wins
//! over an unconfirmed one: electrs may index a block before it drops the transaction from its
//! mempool); a confirmed transaction that a later page lists again means the server ignored
//! `last_seen`, a paging loop, and is an error.

use std::collections::HashMap;

use elements::Txid;
use serde::Deserialize;

use super::HistoryEntry;

/// Confirmed transactions per page of `/txs/chain[/:last_seen]` (both lines).
pub(super) const CHAIN_PAGE: usize = 25;
/// Entries of the first page of mempool.space's electrs (`--rest-default-max-mempool-txs`).
const FIRST_PAGE_ENTRIES: usize = 50;

/// One entry of an Esplora transaction list (only the fields sync reads).
#[derive(Deserialize)]
pub(super) struct EsploraTx {
    txid: String,
    status: EsploraStatus,
    #[serde(default)]
    fee: Option<u64>,
}

#[derive(Deserialize)]
struct EsploraStatus {
    confirmed: bool,
    #[serde(default)]
    block_height: Option<u32>,
}

/// Where a transaction was seen so far.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Seen {
    /// Unconfirmed, at this index of `mempool`.
    Mempool(usize),
    /// Confirmed at this height, on this page (0 = the first).
    Chain { height: u32, page: usize },
}

/// The next request for the same script.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Next {
    /// The history is complete.
    Done,
    /// `/txs/chain` (no confirmed transaction seen yet, but some may exist).
    ChainFirst,
    /// `/txs/chain/:last_seen`.
    ChainAfter(Txid),
}

/// The pages of one script's history read so far.
#[derive(Default)]
pub(super) struct HistoryPages {
    pages: usize,
    mempool: Vec<Option<HistoryEntry>>,
    confirmed: Vec<HistoryEntry>,
    seen: HashMap<Txid, Seen>,
}

impl HistoryPages {
    /// Adds the next page (the first is `/txs`, the others `/txs/chain...`); says what to ask
    /// next. The error says what is wrong with the page (the caller adds the URL).
    pub(super) fn add(&mut self, page: Vec<EsploraTx>) -> Result<Next, String> {
        let index = self.pages;
        self.pages += 1;
        let first = index == 0;
        let (mut confirmed, mut unconfirmed_entries, mut last) = (0usize, 0usize, None);
        for t in page {
            let txid: Txid = t
                .txid
                .parse()
                .map_err(|_| format!("bad txid '{}'", super::clip(&t.txid)))?;
            if !t.status.confirmed {
                if !first {
                    return Err(format!(
                        "unconfirmed transaction {txid} on a page of confirmed ones"
                    ));
                }
                unconfirmed_entries += 1;
                if !self.seen.contains_key(&txid) {
                    self.seen.insert(txid, Seen::Mempool(self.mempool.len()));
                    self.mempool.push(Some(HistoryEntry {
                        txid,
                        height: 0,
                        fee: t.fee,
                    }));
                }
                // Listed before: the same transaction (a repeat, or already confirmed).
                continue;
            }
            let height = t
                .status
                .block_height
                .ok_or_else(|| format!("confirmed {txid} has no block_height"))?;
            let signed = i32::try_from(height)
                .ok()
                .filter(|h| *h > 0)
                .ok_or_else(|| format!("impossible block height {height} for {txid}"))?;
            match self.seen.get(&txid).copied() {
                Some(Seen::Chain { page, .. }) if page != index => {
                    return Err(format!(
                        "transaction {txid} is listed again on a later page (paging went wrong: \
                         the server did not continue after the last transaction seen)"
                    ));
                }
                Some(Seen::Chain { height: h, .. }) if h != height => {
                    return Err(format!(
                        "transaction {txid} is listed twice, at heights {h} and {height}"
                    ));
                }
                Some(Seen::Chain { .. }) => continue,
                Some(Seen::Mempool(i)) => self.mempool[i] = None,
                None => {}
            }
            self.seen.insert(
                txid,
                Seen::Chain {
                    height,
                    page: index,
                },
            );
            self.confirmed.push(HistoryEntry {
                txid,
                height: signed,
                fee: None,
            });
            confirmed += 1;
            last = Some(txid);
        }
        // How many confirmed entries the page had room for: a full page may be followed by
        // more. On the first page, mempool.space's electrs leaves room for only
        // 50 - (mempool entries) of them.
        let room = if first {
            CHAIN_PAGE.min(FIRST_PAGE_ENTRIES.saturating_sub(unconfirmed_entries))
        } else {
            CHAIN_PAGE
        };
        Ok(if confirmed < room {
            Next::Done
        } else {
            match last {
                Some(last) => Next::ChainAfter(last),
                // Only on a first page filled with mempool entries.
                None if first => Next::ChainFirst,
                None => Next::Done,
            }
        })
    }

    /// How many pages were read.
    pub(super) fn pages(&self) -> usize {
        self.pages
    }

    /// The history in Electrum's order: confirmed oldest first, then the mempool in the order
    /// listed reversed (Esplora lists newest first).
    pub(super) fn finish(self) -> Vec<HistoryEntry> {
        let mut out = self.confirmed;
        out.reverse();
        let mut mempool: Vec<HistoryEntry> = self.mempool.into_iter().flatten().collect();
        mempool.reverse();
        out.extend(mempool);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn txid(n: u8) -> String {
        format!("{:064x}", n)
    }

    fn entry(n: u8, height: Option<u32>) -> EsploraTx {
        EsploraTx {
            txid: txid(n),
            status: EsploraStatus {
                confirmed: height.is_some(),
                block_height: height,
            },
            fee: None,
        }
    }

    fn ids(h: &[HistoryEntry]) -> Vec<(String, i32)> {
        h.iter().map(|e| (e.txid.to_string(), e.height)).collect()
    }

    #[test]
    fn a_mempool_listed_twice_is_read_once() {
        // mempool.space's electrs: [m1, m2, m1, m2, c3]
        let mut p = HistoryPages::default();
        let page = vec![
            entry(1, None),
            entry(2, None),
            entry(1, None),
            entry(2, None),
            entry(3, Some(7)),
        ];
        assert_eq!(p.add(page).unwrap(), Next::Done);
        assert_eq!(ids(&p.finish()), [(txid(3), 7), (txid(2), 0), (txid(1), 0)]);
    }

    #[test]
    fn a_confirmed_listing_wins_over_an_unconfirmed_one() {
        let mut p = HistoryPages::default();
        let page = vec![entry(1, None), entry(2, None), entry(1, Some(9))];
        assert_eq!(p.add(page).unwrap(), Next::Done);
        assert_eq!(ids(&p.finish()), [(txid(1), 9), (txid(2), 0)]);
    }

    #[test]
    fn contradictory_heights_are_refused() {
        let mut p = HistoryPages::default();
        let e = p
            .add(vec![entry(1, Some(5)), entry(1, Some(6))])
            .unwrap_err();
        assert!(e.contains("heights 5 and 6"), "{e}");
    }

    #[test]
    fn a_paging_loop_is_caught() {
        let mut p = HistoryPages::default();
        let full: Vec<EsploraTx> = (1..=25)
            .map(|n| entry(n, Some(100 - u32::from(n))))
            .collect();
        assert_eq!(
            p.add(full).unwrap(),
            Next::ChainAfter(txid(25).parse().unwrap())
        );
        // The server ignores last_seen and answers the first page again.
        let again: Vec<EsploraTx> = (1..=25)
            .map(|n| entry(n, Some(100 - u32::from(n))))
            .collect();
        let e = p.add(again).unwrap_err();
        assert!(e.contains("paging went wrong"), "{e}");
    }

    #[test]
    fn pages_follow_until_one_is_short() {
        let mut p = HistoryPages::default();
        let first: Vec<EsploraTx> = (1..=25)
            .map(|n| entry(n, Some(200 - u32::from(n))))
            .collect();
        assert_eq!(
            p.add(first).unwrap(),
            Next::ChainAfter(txid(25).parse().unwrap())
        );
        let second: Vec<EsploraTx> = (26..=30)
            .map(|n| entry(n, Some(200 - u32::from(n))))
            .collect();
        assert_eq!(p.add(second).unwrap(), Next::Done);
        assert_eq!(p.pages(), 2);
        let h = p.finish();
        assert_eq!(h.len(), 30);
        assert_eq!(h[0].height, 170, "oldest first");
    }

    #[test]
    fn a_first_page_crowded_by_the_mempool_is_followed() {
        // mempool.space's electrs with 13 mempool transactions: 26 entries, then room for 24
        // confirmed ones; 24 of them does not mean the end.
        let mut p = HistoryPages::default();
        let mut page: Vec<EsploraTx> = Vec::new();
        for _ in 0..2 {
            page.extend((1..=13).map(|n| entry(n, None)));
        }
        page.extend((14..=37).map(|n| entry(n, Some(300 - u32::from(n)))));
        assert_eq!(
            p.add(page).unwrap(),
            Next::ChainAfter(txid(37).parse().unwrap())
        );
        // Blockstream's electrs with the same 13 mempool transactions and 24 confirmed: done.
        let mut q = HistoryPages::default();
        let mut page: Vec<EsploraTx> = (1..=13).map(|n| entry(n, None)).collect();
        page.extend((14..=37).map(|n| entry(n, Some(300 - u32::from(n)))));
        assert_eq!(q.add(page).unwrap(), Next::Done);
        // 25 mempool transactions listed twice leave no room: ask /txs/chain.
        let mut r = HistoryPages::default();
        let mut page: Vec<EsploraTx> = Vec::new();
        for _ in 0..2 {
            page.extend((1..=25).map(|n| entry(n, None)));
        }
        assert_eq!(r.add(page).unwrap(), Next::ChainFirst);
        assert_eq!(r.add(Vec::new()).unwrap(), Next::Done);
        assert_eq!(r.finish().len(), 25);
    }

    #[test]
    fn hostile_pages_are_refused() {
        let mut p = HistoryPages::default();
        let first: Vec<EsploraTx> = (1..=25).map(|n| entry(n, Some(50))).collect();
        p.add(first).unwrap();
        let e = p.add(vec![entry(90, None)]).unwrap_err();
        assert!(e.contains("unconfirmed"), "{e}");
        let mut q = HistoryPages::default();
        let e = q.add(vec![entry(1, Some(0))]).unwrap_err();
        assert!(e.contains("impossible block height 0"), "{e}");
        let mut r = HistoryPages::default();
        let bad = EsploraTx {
            txid: "zz".into(),
            status: EsploraStatus {
                confirmed: false,
                block_height: None,
            },
            fee: None,
        };
        assert!(r.add(vec![bad]).unwrap_err().contains("bad txid"));
        let mut s = HistoryPages::default();
        let no_height = EsploraTx {
            txid: txid(1),
            status: EsploraStatus {
                confirmed: true,
                block_height: None,
            },
            fee: None,
        };
        assert!(s
            .add(vec![no_height])
            .unwrap_err()
            .contains("no block_height"));
    }
}
