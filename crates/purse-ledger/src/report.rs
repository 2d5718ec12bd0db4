//! `purse ledger report --html FILE`: one self-contained HTML page (inline CSS, SVG and one
//! small inline script; no network, no external file or font) showing
//!
//! 1. the conservation check of `purse ledger summary`;
//! 2. money flowing down the hierarchy: one column per level (center, regions, branches,
//!    users), one band per payer → payee pair whose width is the value moved (transfers and
//!    interest, each counted once whether seen on the payer's passbook, the payee's, or both);
//! 3. each card's balance over time: the NEW BALANCE of every entry of its collected passbooks,
//!    in passbook order, with the balance the card reported at its last sync.
//!
//! Everything is computed from the ledger's read functions (`summary`, `entries`), so it works
//! on any engine. The inline script only re-adds the numbers embedded in the page and writes
//! the conservation line (a reader without scripts still sees everything else).
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;

use super::summary::Summary;
use super::units::{rfc3339, Units};
use super::{EntryFilter, EntryType, Ledger, Result, StoredEntry};

/// Most cards drawn per column of the flow diagram; the rest are merged into one node.
pub const MAX_PER_COLUMN: usize = 24;
/// Most balance charts drawn (the cards with most entries first).
pub const MAX_CHARTS: usize = 48;

fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c if c.is_control() => o.push(' '),
            c => o.push(c),
        }
    }
    o
}

/// A value moved from one card to another, once per transfer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Flow {
    pub from: String,
    pub to: String,
    pub amount: i64,
    pub transfers: usize,
}

/// Payer → payee flows, each transfer counted once (by transfer id) whichever passbooks show it.
pub fn flows(entries: &[StoredEntry]) -> Vec<Flow> {
    let mut seen: HashSet<(String, String, String)> = HashSet::new();
    let mut agg: BTreeMap<(String, String), (i64, usize)> = BTreeMap::new();
    for e in entries {
        let (from, to) = match e.kind {
            EntryType::Debit | EntryType::InterestOut => (&e.card_account, &e.counterparty),
            EntryType::Credit | EntryType::InterestIn => (&e.counterparty, &e.card_account),
            // refunded (never credited), exceptions (undecided), mints: no flow
            _ => continue,
        };
        let key = e
            .tid
            .clone()
            .unwrap_or_else(|| format!("no-tid:{}:{}:{}", e.day, e.amount, e.id));
        if !seen.insert((from.clone(), to.clone(), key)) {
            continue;
        }
        let a = agg.entry((from.clone(), to.clone())).or_default();
        a.0 += e.amount as i64;
        a.1 += 1;
    }
    agg.into_iter()
        .map(|((from, to), (amount, transfers))| Flow {
            from,
            to,
            amount,
            transfers,
        })
        .collect()
}

fn rank(role: Option<&str>) -> usize {
    match role {
        Some("center") => 0,
        Some("region") => 1,
        Some("branch") => 2,
        _ => 3,
    }
}

const COLUMNS: [&str; 4] = ["Center", "Regions", "Branches", "Users and others"];

impl Ledger {
    /// The report page (see the module docs). `title` names the ledger in the page;
    /// `warnings` (problems the check at open found) are shown at the top.
    pub fn report_html(&self, title: &str, warnings: &[String]) -> Result<String> {
        let s = self.summary()?;
        let entries = self.entries(&EntryFilter::default())?;
        Ok(render(&s, &entries, title, warnings))
    }
}

/// Render the page from a summary and the ledger's entries.
pub fn render(s: &Summary, entries: &[StoredEntry], title: &str, warnings: &[String]) -> String {
    let u = &s.units;
    let mut h = String::new();
    let c = &s.conservation;
    let _ = write!(
        h,
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>purse ledger report: {t}</title>
<style>
body {{ font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #1d2330; background: #fff; }}
h1 {{ font-size: 22px; margin: 0 0 4px; }} h2 {{ font-size: 17px; margin: 28px 0 8px; }}
.muted {{ color: #5d6678; }} .ok {{ color: #1a7f37; font-weight: 600; }} .bad {{ color: #c62828; font-weight: 600; }}
table {{ border-collapse: collapse; }} td, th {{ padding: 3px 10px; border-bottom: 1px solid #e3e6ec; text-align: left; }}
td.num, th.num {{ text-align: right; font-variant-numeric: tabular-nums; }}
.charts {{ display: flex; flex-wrap: wrap; gap: 14px; }}
.chart {{ border: 1px solid #e3e6ec; border-radius: 6px; padding: 6px 8px; }}
.chart h3 {{ font-size: 13px; margin: 0; }}
svg text {{ font: 11px system-ui, sans-serif; fill: #1d2330; }}
svg .node rect {{ fill: #eef2fb; stroke: #3b5bdb; }} svg .band {{ fill: none; stroke: #3b5bdb; stroke-opacity: .35; }}
svg .band.up {{ stroke: #e8590c; }} svg .band:hover {{ stroke-opacity: .7; }}
svg .line {{ fill: none; stroke: #3b5bdb; stroke-width: 2; }} svg .axis {{ stroke: #9aa3b5; }}
svg .reported {{ fill: #e8590c; }}
</style></head><body>
<h1>Ledger report</h1>
<div class="muted">{t} · generated {g} · amounts in {unit} ({src}) · {ns} syncs{last}</div>
{warn}<h2>Conservation</h2>
<p id="conservation" class="{cls}">held by the cards below the center {held} + open exceptions {open} {op} issued by the center {issued}{diff}</p>
<p id="js-check" class="muted">(the check line below is computed by the page's script)</p>
"#,
        t = esc(title),
        warn = if warnings.is_empty() {
            String::new()
        } else {
            format!(
                "<p id=\"damaged\" class=\"bad\">This ledger is damaged or was altered ({} problem(s), first: {}): the figures below may be incomplete or wrong. Run <code>purse ledger check</code>.</p>\n",
                warnings.len(),
                esc(&warnings[0])
            )
        },
        g = rfc3339(now()),
        unit = esc(u.unit()),
        src = esc(&u.source),
        ns = s.syncs,
        last = s
            .last_sync_at
            .as_deref()
            .map(|t| format!(", last {t}"))
            .unwrap_or_default(),
        cls = if c.holds { "ok" } else { "bad" },
        held = esc(&u.text(c.held_by_cards.minor)),
        open = esc(&u.text(c.open_exceptions.minor)),
        op = if c.holds { "=" } else { "≠" },
        issued = esc(&u.text(c.issued_by_center.minor)),
        diff = if c.holds {
            ": value conserved".to_string()
        } else if c.difference.minor == 0 {
            format!(
                ": NOT conserved, negative balance on {}",
                esc(&c.negative_balances.join(", "))
            )
        } else {
            format!(": difference {}", esc(&u.text(c.difference.minor)))
        },
    );
    let _ = writeln!(
        h,
        "<p class=\"muted\">in flight (debits not yet seen credited): {} in {} · credits whose debit is not collected: {} · flags: {}{}</p>",
        esc(&u.text(s.unmatched_debits.amount.minor)),
        s.unmatched_debits.count,
        s.unmatched_credits.count,
        s.flags.len(),
        s.minted_estimate
            .as_ref()
            .map(|m| format!(" · minted (center's report + issued): {}", esc(&u.text(m.minor))))
            .unwrap_or_default()
    );

    h.push_str("<h2>Money down the hierarchy</h2>\n");
    h.push_str(&flow_svg(s, entries, u));

    h.push_str("<h2>Cards</h2>\n<table id=\"cards\"><tr><th>card</th><th>name</th><th>role</th><th class=\"num\">entries</th><th class=\"num\">balance (ledger)</th><th class=\"num\">reported at last sync</th></tr>\n");
    for k in &s.cards {
        let _ = writeln!(
            h,
            "<tr data-account=\"{a}\"><td>{a}</td><td>{n}</td><td>{r}</td><td class=\"num\">{e}</td><td class=\"num balance\" data-minor=\"{m}\" data-held=\"{held}\">{b}</td><td class=\"num\">{rep}</td></tr>",
            a = esc(&k.account),
            n = esc(k.name.as_deref().unwrap_or("")),
            r = esc(k.role.as_deref().unwrap_or("?")),
            e = k.own_entries,
            m = k.balance.minor,
            held = (k.role.as_deref() != Some("center")) as u8,
            b = if k.role.as_deref() == Some("center") {
                format!("never collected (issued {})", esc(&u.text(-k.balance.minor)))
            } else {
                esc(&u.text(k.balance.minor))
            },
            rep = match (&k.reported_balance, &k.reported_at) {
                (Some(b), Some(t)) => format!("{} ({})", esc(&u.text(b.minor)), &t[..10]),
                _ => "—".into(),
            }
        );
    }
    h.push_str("</table>\n");

    h.push_str("<h2>Balance over time</h2>\n<p class=\"muted\">New balance after each entry of the collected passbooks, in passbook order; the orange dot is the balance the card reported at its last sync.</p>\n<div class=\"charts\">\n");
    let mut by_card: BTreeMap<&str, Vec<&StoredEntry>> = BTreeMap::new();
    for e in entries {
        by_card.entry(&e.card_account).or_default().push(e);
    }
    let mut order: Vec<&crate::summary::CardSummary> = s
        .cards
        .iter()
        .filter(|k| by_card.contains_key(k.account.as_str()))
        .collect();
    order.sort_by_key(|k| std::cmp::Reverse(by_card[k.account.as_str()].len()));
    let skipped = order.len().saturating_sub(MAX_CHARTS);
    order.truncate(MAX_CHARTS);
    let pos: HashMap<&str, usize> = s
        .cards
        .iter()
        .enumerate()
        .map(|(i, k)| (k.account.as_str(), i))
        .collect();
    order.sort_by_key(|k| pos[k.account.as_str()]);
    for k in order {
        h.push_str(&chart_svg(k, &by_card[k.account.as_str()], u));
    }
    h.push_str("</div>\n");
    if skipped > 0 {
        let _ = writeln!(h, "<p class=\"muted\">{skipped} more cards not charted (`purse ledger --account ACC` lists them).</p>");
    }

    // The numbers the script re-adds; JSON inside <script> cannot close it ("</" is escaped).
    let data = serde_json::json!({
        "unit": u.unit(),
        "decimals": u.decimals.unwrap_or(0),
        "issued": c.issued_by_center.minor,
        "open": c.open_exceptions.minor,
    });
    let _ = write!(
        h,
        r#"<script type="application/json" id="data">{}</script>
<script>
(function () {{
  var d = JSON.parse(document.getElementById('data').textContent);
  var held = 0, n = 0;
  document.querySelectorAll('#cards td.balance').forEach(function (td) {{
    if (td.getAttribute('data-held') === '1') {{ held += Number(td.getAttribute('data-minor')); n++; }}
  }});
  function fmt(v) {{
    var neg = v < 0; v = Math.abs(v);
    var p = Math.pow(10, d.decimals), s = String(Math.floor(v / p));
    if (d.decimals > 0) {{ s += '.' + String(v % p).padStart(d.decimals, '0'); }}
    return (neg ? '-' : '') + s + ' ' + d.unit;
  }}
  var ok = held + d.open === d.issued;
  var el = document.getElementById('js-check');
  el.className = ok ? 'ok' : 'bad';
  el.textContent = 'check: ' + n + ' cards hold ' + fmt(held) + ', open exceptions ' + fmt(d.open) +
    ', issued by the center ' + fmt(d.issued) + (ok ? ': conserved' : ': NOT conserved');
}})();
</script>
</body></html>
"#,
        data.to_string().replace("</", "<\\/")
    );
    h
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn flow_svg(s: &Summary, entries: &[StoredEntry], u: &Units) -> String {
    let fl = flows(entries);
    let label: HashMap<&str, String> = s
        .cards
        .iter()
        .map(|k| {
            let n = k.name.as_deref().filter(|n| !n.is_empty()).unwrap_or("?");
            (k.account.as_str(), n.to_string())
        })
        .collect();
    // What a node shows: the rebuilt balance; for the center (never collected, its rebuilt
    // balance is minus what it issued) the balance it reported at its last sync.
    let balance: HashMap<&str, String> = s
        .cards
        .iter()
        .map(|k| {
            let t = if k.role.as_deref() == Some("center") {
                match &k.reported_balance {
                    Some(b) => format!("{} reported", u.text(b.minor)),
                    None => format!("issued {}", u.text(-k.balance.minor)),
                }
            } else {
                u.text(k.balance.minor)
            };
            (k.account.as_str(), t)
        })
        .collect();
    // Volume per card, to keep the busiest when a column is too long.
    let mut vol: HashMap<&str, i64> = HashMap::new();
    for f in &fl {
        *vol.entry(&f.from).or_default() += f.amount;
        *vol.entry(&f.to).or_default() += f.amount;
    }
    let mut cols: Vec<Vec<String>> = vec![Vec::new(); 4];
    for k in &s.cards {
        if vol.contains_key(k.account.as_str()) || k.own_entries > 0 {
            cols[rank(k.role.as_deref())].push(k.account.clone());
        }
    }
    let mut merged: HashMap<String, String> = HashMap::new();
    for (ci, col) in cols.iter_mut().enumerate() {
        if col.len() > MAX_PER_COLUMN {
            col.sort_by_key(|a| std::cmp::Reverse(vol.get(a.as_str()).copied().unwrap_or(0)));
            let rest = col.split_off(MAX_PER_COLUMN - 1);
            let key = format!("others:{ci}");
            for a in &rest {
                merged.insert(a.clone(), key.clone());
            }
            col.push(key);
        }
    }
    let node_of = |a: &str| merged.get(a).cloned().unwrap_or_else(|| a.to_string());
    // Re-aggregate flows onto the drawn nodes.
    let mut agg: BTreeMap<(String, String), (i64, usize)> = BTreeMap::new();
    for f in &fl {
        let e = agg.entry((node_of(&f.from), node_of(&f.to))).or_default();
        e.0 += f.amount;
        e.1 += f.transfers;
    }
    let (nw, nh, gap, colw, top) = (150.0, 38.0, 14.0, 290.0, 30.0);
    let rows = cols.iter().map(Vec::len).max().unwrap_or(0).max(1);
    let height = top + rows as f64 * (nh + gap) + 20.0;
    let width = 3.0 * colw + nw + 190.0;
    let mut at: HashMap<String, (f64, f64)> = HashMap::new();
    for (ci, col) in cols.iter().enumerate() {
        for (ri, a) in col.iter().enumerate() {
            at.insert(
                a.clone(),
                (10.0 + ci as f64 * colw, top + ri as f64 * (nh + gap)),
            );
        }
    }
    let max = agg.values().map(|v| v.0).max().unwrap_or(1).max(1) as f64;
    let mut o = format!(
        "<svg id=\"flows\" width=\"{width:.0}\" height=\"{height:.0}\" viewBox=\"0 0 {width:.0} {height:.0}\" role=\"img\" aria-label=\"money flowing down the hierarchy\">\n"
    );
    for (ci, t) in COLUMNS.iter().enumerate() {
        let _ = writeln!(
            o,
            "<text x=\"{:.0}\" y=\"16\" font-weight=\"600\">{t}</text>",
            10.0 + ci as f64 * colw
        );
    }
    for ((from, to), (amount, n)) in &agg {
        let (Some(&(x1, y1)), Some(&(x2, y2))) = (at.get(from), at.get(to)) else {
            continue;
        };
        let w = 2.0 + 16.0 * (*amount as f64) / max;
        let down = x2 > x1;
        let (sx, sy, ex, ey) = if down {
            (x1 + nw, y1 + nh / 2.0, x2, y2 + nh / 2.0)
        } else if x2 < x1 {
            (x1, y1 + nh / 2.0, x2 + nw, y2 + nh / 2.0)
        } else {
            (x1 + nw, y1 + nh / 2.0, x2 + nw, y2 + nh / 2.0)
        };
        let d = if x1 == x2 {
            // the two directions between the same pair bulge apart, so labels do not overlap
            let bulge = 40.0 + (y2 - y1).abs() / 3.0 + if y2 < y1 { 60.0 } else { 0.0 };
            format!(
                "M{sx:.1},{sy:.1} C{:.1},{sy:.1} {:.1},{ey:.1} {ex:.1},{ey:.1}",
                sx + bulge,
                ex + bulge
            )
        } else {
            let mx = (sx + ex) / 2.0;
            format!("M{sx:.1},{sy:.1} C{mx:.1},{sy:.1} {mx:.1},{ey:.1} {ex:.1},{ey:.1}")
        };
        let (lx, ly, anchor) = if x1 == x2 {
            let bulge = 40.0 + (y2 - y1).abs() / 3.0 + if y2 < y1 { 60.0 } else { 0.0 };
            (
                sx + 0.75 * bulge + 4.0,
                (sy + ey) / 2.0 + if y2 < y1 { 14.0 } else { -4.0 },
                "start",
            )
        } else {
            ((sx + ex) / 2.0, (sy + ey) / 2.0 - 4.0, "middle")
        };
        let text = u.text(*amount);
        let _ = writeln!(
            o,
            "<g class=\"flow\" data-from=\"{f}\" data-to=\"{t}\" data-minor=\"{amount}\"><path class=\"band{up}\" d=\"{d}\" stroke-width=\"{w:.1}\"><title>{fl} → {tl}: {tx} in {n} transfer(s)</title></path><text x=\"{lx:.0}\" y=\"{ly:.0}\" text-anchor=\"{anchor}\">{tx}</text></g>",
            f = esc(from),
            t = esc(to),
            up = if down { "" } else { " up" },
            fl = esc(label.get(from.as_str()).map(String::as_str).unwrap_or(from)),
            tl = esc(label.get(to.as_str()).map(String::as_str).unwrap_or(to)),
            tx = esc(&text),
        );
    }
    for (a, (x, y)) in &at {
        let (name, sub) = if a.starts_with("others:") {
            let n = merged.values().filter(|v| v.as_str() == a.as_str()).count();
            (format!("{n} more"), "merged".to_string())
        } else {
            (
                label.get(a.as_str()).cloned().unwrap_or_else(|| "?".into()),
                balance.get(a.as_str()).cloned().unwrap_or_default(),
            )
        };
        let _ = writeln!(
            o,
            "<g class=\"node\" data-account=\"{acc}\"><rect x=\"{x:.0}\" y=\"{y:.0}\" width=\"{nw:.0}\" height=\"{nh:.0}\" rx=\"5\"><title>{acc}</title></rect><text x=\"{tx:.0}\" y=\"{ty:.0}\" font-weight=\"600\">{name}</text><text x=\"{tx:.0}\" y=\"{ty2:.0}\">{sub}</text></g>",
            acc = esc(a),
            tx = x + 7.0,
            ty = y + 15.0,
            ty2 = y + 30.0,
            name = esc(&name),
            sub = esc(&sub),
        );
    }
    o.push_str("</svg>\n");
    if fl.is_empty() {
        o.push_str("<p class=\"muted\">no transfers in the ledger yet</p>\n");
    }
    o
}

fn chart_svg(k: &crate::summary::CardSummary, es: &[&StoredEntry], u: &Units) -> String {
    let (w, h, l, r, t, b) = (330.0, 150.0, 70.0, 12.0, 10.0, 28.0);
    let mut pts: Vec<i64> = es.iter().map(|e| e.new_balance as i64).collect();
    let reported = k.reported_balance.as_ref().map(|a| a.minor);
    // Scaled to the balance's own range (a 0-based axis hides a user's small payments); the
    // axis labels say where it starts and ends.
    let hi = pts.iter().copied().chain(reported).max().unwrap_or(0);
    let lo = pts.iter().copied().chain(reported).min().unwrap_or(0);
    let pad = ((hi - lo) / 10).max(1);
    let (lo, hi) = ((lo - pad).max(0), hi + pad);
    let span = (hi - lo).max(1) as f64;
    let n = pts.len().max(1);
    let x = |i: usize| {
        l + (w - l - r)
            * if n > 1 {
                i as f64 / (n - 1) as f64
            } else {
                0.5
            }
    };
    let y = |v: i64| t + (h - t - b) * (1.0 - (v - lo) as f64 / span);
    let mut d = String::new();
    for (i, v) in pts.iter().enumerate() {
        // a step: the balance holds until the next entry
        if i == 0 {
            let _ = write!(d, "M{:.1},{:.1}", x(0), y(*v));
        } else {
            let _ = write!(d, " H{:.1} V{:.1}", x(i), y(*v));
        }
    }
    let mut o = format!(
        "<div class=\"chart\" data-account=\"{a}\"><h3>{name} <span class=\"muted\">{a} · {role}</span></h3>\n<svg width=\"{w:.0}\" height=\"{h:.0}\" viewBox=\"0 0 {w:.0} {h:.0}\">\n<line class=\"axis\" x1=\"{l}\" y1=\"{yb:.0}\" x2=\"{xr:.0}\" y2=\"{yb:.0}\"/><line class=\"axis\" x1=\"{l}\" y1=\"{t}\" x2=\"{l}\" y2=\"{yb:.0}\"/>\n<text x=\"{lx:.0}\" y=\"{ty:.0}\" text-anchor=\"end\">{top}</text><text x=\"{lx:.0}\" y=\"{yb:.0}\" text-anchor=\"end\">{bottom}</text>\n",
        a = esc(&k.account),
        name = esc(k.name.as_deref().unwrap_or("?")),
        role = esc(k.role.as_deref().unwrap_or("?")),
        yb = h - b,
        xr = w - r,
        lx = l - 4.0,
        ty = t + 8.0,
        top = esc(&u.decimal(hi)),
        bottom = esc(&u.decimal(lo)),
    );
    let _ = writeln!(o, "<path class=\"line\" d=\"{d}\"/>");
    for (i, e) in es.iter().enumerate() {
        let _ = writeln!(
            o,
            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"2.5\" fill=\"#3b5bdb\"><title>{} {} {} → {}</title></circle>",
            x(i),
            y(e.new_balance as i64),
            esc(&e.date),
            esc(&e.kind.name()),
            esc(&u.text(e.amount as i64)),
            esc(&u.text(e.new_balance as i64))
        );
    }
    if let Some(rb) = reported {
        let _ = writeln!(
            o,
            "<circle class=\"reported\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"4\"><title>reported at last sync: {}</title></circle>",
            w - r,
            y(rb),
            esc(&u.text(rb))
        );
    }
    let first = es.first().map(|e| e.date.as_str()).unwrap_or("");
    let last = es.last().map(|e| e.date.as_str()).unwrap_or("");
    let _ = writeln!(
        o,
        "<text x=\"{l}\" y=\"{:.0}\">{}</text><text x=\"{:.0}\" y=\"{:.0}\" text-anchor=\"end\">{}</text>\n</svg>\n<div class=\"last-balance\">{} entries · last entry's balance <b>{}</b></div></div>",
        h - 10.0,
        esc(first),
        w - r,
        h - 10.0,
        esc(last),
        es.len(),
        esc(&u.text(pts.pop().unwrap_or(0)))
    );
    o
}
