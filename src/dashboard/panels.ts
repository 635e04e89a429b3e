/**
 * The compare and flame panels of the target page (built by assets/compare.ts and flame.ts into
 * the page) and the "analyze a file" page, with their styles: apart from pages.ts, so the shells
 * there stay small. No data in any of it, as in pages.ts.
 */
import { shell } from './pages.js';

export const analyzePage = shell(
  'analyze',
  'leakwatch: analyze a file',
  `<h1>Analyze a file</h1>
<p class="muted">Drop a goroutine dump (debug=2 or debug=1 text, or a protobuf profile, gzipped or not) on this page, or choose one. It is read here, in this browser, by leakwatch's own readers and analysis: the file is not sent anywhere. The report is the one <code>leakwatch analyze --no-source FILE</code> prints.</p>
<label id="drop" class="drop">Drop a dump or profile here, or click to choose one<input id="file" type="file"></label>
<p id="drop-status" class="muted"></p>
<p id="error" class="error" hidden></p>
<section id="result" hidden>
<h2>Suspects</h2>
<p id="result-summary"></p>
<table id="suspects">
<thead><tr><th class="num">Goroutines</th><th>Blocked on</th><th>Holder</th><th>Created by</th><th>Why</th></tr></thead>
<tbody></tbody>
</table>
<h2>Report</h2>
<pre id="report"></pre>
</section>`,
  `<link rel="stylesheet" href="/ui/assets/panels.css">
<script type="module" src="/ui/assets/analyze.js"></script>
`,
);

export const PANELS_STYLE = `
header a.nav { color: var(--fg); }
.presets { display: flex; gap: 6px; flex-wrap: wrap; margin: 6px 0; }
button { font: inherit; padding: 3px 10px; border: 1px solid var(--line); background: #f9fafb; border-radius: 4px; cursor: pointer; }
button:hover { background: #f2f4f7; }
button:disabled { cursor: default; color: var(--muted); }
.moments { margin: 6px 0; }
.moments b { font-variant-numeric: tabular-nums; }
#chart .u-over { cursor: crosshair; }
.moment-mark { position: absolute; top: 0; bottom: 0; width: 0; border-left: 2px solid #12b76a; pointer-events: none; }
.moment-mark.b { border-left-color: #7a5af8; }
.moment-mark span { position: absolute; top: 2px; left: 3px; font-size: 11px; font-weight: 700; }
table#compare td.change-appeared, table#compare td.change-grew { color: var(--bad); font-weight: 600; }
table#compare td.change-vanished, table#compare td.change-shrank { color: var(--ok); }
#flame { position: relative; overflow: hidden; border: 1px solid var(--line); font-family: ui-monospace, monospace; font-size: 11.5px; }
#flame .fl { position: absolute; height: 18px; line-height: 18px; padding: 0 3px; overflow: hidden; white-space: nowrap; text-overflow: ellipsis; border-right: 1px solid #fff; border-bottom: 1px solid #fff; cursor: pointer; color: #1d2330; }
#flame .fl.ancestor { opacity: 0.55; }
#flame .fl:hover { outline: 1px solid #1d2330; z-index: 1; }
.drop { display: block; border: 2px dashed var(--line); border-radius: 8px; padding: 36px; text-align: center; color: var(--muted); cursor: pointer; margin: 12px 0; }
.drop.over { border-color: #2e90fa; background: #eff8ff; }
.drop input { display: block; margin: 10px auto 0; }
pre#report { background: #f9fafb; border: 1px solid var(--line); padding: 10px; overflow: auto; font-size: 12.5px; white-space: pre; }
`;
