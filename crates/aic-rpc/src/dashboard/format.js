// Formatting for people: amounts, hashes, times, rates.

const UNITS_PER_AIC = 100_000_000n;

/** Base units as AIC, e.g. 150000000 → "1.5". */
export function aic(units) {
  const u = BigInt(Math.trunc(Number(units ?? 0)));
  const neg = u < 0n;
  const abs = neg ? -u : u;
  const whole = abs / UNITS_PER_AIC;
  const frac = (abs % UNITS_PER_AIC).toString().padStart(8, "0").replace(/0+$/, "");
  const w = whole.toLocaleString("en-US");
  return (neg ? "−" : "") + (frac ? `${w}.${frac}` : w);
}

/** A signed AIC amount with its sign, for balance changes. */
export function signedAic(units) {
  return (units > 0 ? "+" : "") + aic(units);
}

/** A hash or address shortened to its ends. */
export function short(s, head = 8, tail = 6) {
  if (!s) return "";
  return s.length <= head + tail + 1 ? s : `${s.slice(0, head)}…${s.slice(-tail)}`;
}

/** "12 s ago", "5 min ago"... from Unix seconds. */
export function ago(unix, now = Date.now() / 1000) {
  if (!unix) return "never";
  const d = Math.max(0, Math.round(now - unix));
  if (d < 60) return `${d} s ago`;
  if (d < 3600) return `${Math.floor(d / 60)} min ago`;
  if (d < 86400) return `${Math.floor(d / 3600)} h ago`;
  return `${Math.floor(d / 86400)} d ago`;
}

/** A date and time from Unix seconds, in the reader's locale. */
export function when(unix) {
  return new Date(unix * 1000).toLocaleString();
}

const SI = ["", "k", "M", "G", "T", "P", "E"];

/** A number with an SI prefix: 1234567 → "1.23 M". */
export function si(n, unit = "") {
  if (!Number.isFinite(n) || n === 0) return `0 ${unit}`.trim();
  if (Math.abs(n) < 0.01) return `${n.toExponential(2)} ${unit}`.trim();
  let i = 0;
  let v = Math.abs(n);
  while (v >= 1000 && i < SI.length - 1) { v /= 1000; i++; }
  const digits = v >= 100 ? 0 : v >= 10 ? 1 : 2;
  return `${n < 0 ? "-" : ""}${v.toFixed(digits)} ${SI[i]}${unit}`.trim();
}

/** Hashes per second. */
export function rate(hps) {
  return si(hps, "H/s");
}

/** A whole number with separators. */
export function int(n) {
  return Number(n ?? 0).toLocaleString("en-US");
}

/** Bytes as B / kB / MB. */
export function bytes(n) {
  return n < 1000 ? `${n} B` : si(n, "B");
}

/** A fixed-point value (10^6 = 1.0, as hyperparameters and metrics are) as a decimal. */
export function fixed(v) {
  const n = BigInt(Math.trunc(Number(v ?? 0)));
  const neg = n < 0n;
  const abs = neg ? -n : n;
  const frac = (abs % 1_000_000n).toString().padStart(6, "0").replace(/0+$/, "");
  return (neg ? "−" : "") + (abs / 1_000_000n).toString() + (frac ? "." + frac : "");
}

/** Basis points as a percentage: 250 → "2.5%". */
export function bps(b) {
  return `${Number(((b ?? 0) / 100).toFixed(2))}%`;
}

/** A count and its noun: 1 → "1 job", 3 → "3 jobs". */
export function plural(n, noun) {
  return `${int(n)} ${noun}${n === 1 ? "" : "s"}`;
}
