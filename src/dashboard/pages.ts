/**
 * The dashboard's HTML and CSS. The pages are fixed shells with no data in them: assets/app.ts
 * fills them from the JSON API, so nothing from a profile is ever parsed as HTML.
 */

export const shell = (
  page: string,
  title: string,
  body: string,
  extraHead = '',
): string => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<link rel="icon" href="/ui/assets/icon.svg">
<link rel="stylesheet" href="/ui/assets/style.css">
${extraHead}<script type="module" src="/ui/assets/app.js"></script>
</head>
<body data-page="${page}">
<header><a href="/ui/" class="brand">leakwatch</a> <span id="crumb"></span><span id="busy" hidden>loading…</span><a href="/ui/analyze" class="nav">Analyze a file</a></header>
<main>
${body}
</main>
</body>
</html>
`;

export const fleetPage = shell(
  'fleet',
  'leakwatch: fleet',
  `<h1>Fleet</h1>
<p id="summary" class="muted"></p>
<table id="fleet">
<thead><tr><th>Target</th><th>Status</th><th class="num">Goroutines</th><th>Last day</th><th>Last scrape</th><th>Open alerts</th></tr></thead>
<tbody></tbody>
</table>
<p id="error" class="error" hidden></p>`,
);

export const targetPage = shell(
  'target',
  'leakwatch: target',
  `<h1 id="title"></h1>
<p id="summary" class="muted"></p>
<section>
<h2>Goroutines over time <span id="range" class="range"></span></h2>
<p class="muted hint">Drag across the chart to zoom in; dashed red lines mark alerts.</p>
<div id="chart"></div>
<p id="zoom" class="muted"></p>
</section>
<div class="split">
<section>
<h2>Stack groups</h2>
<p class="muted">Growing groups first (growth per hour in goroutines, over the last hour). Click a heading to sort by it; click a group for its count over time and its stack.</p>
<table id="groups">
<thead><tr><th class="num">Now</th><th class="num">Growth/h</th><th>Blocked on</th><th>Holder</th><th>Created by</th></tr></thead>
<tbody></tbody>
</table>
</section>
<section id="group" hidden>
<h2 id="group-title"></h2>
<p id="group-summary"></p>
<p id="group-verdict"></p>
<div id="group-chart"></div>
<h3>Wait time</h3>
<div id="group-waits"></div>
<h3>Ownership</h3>
<dl id="ownership"></dl>
<h3>Source</h3>
<div id="group-source"></div>
<h3>Stack (innermost first)</h3>
<ol id="stack"></ol>
</section>
</div>
<section id="alerts-section">
<h2>Alerts</h2>
<ul id="alerts"></ul>
</section>
<p id="error" class="error" hidden></p>`,
  `<link rel="stylesheet" href="/ui/assets/uPlot.min.css">
<script src="/ui/assets/uPlot.min.js"></script>
`,
);

export const STYLE = `
:root { --fg: #1d2330; --muted: #667085; --line: #d0d5dd; --bad: #b42318; --ok: #067647; --bg: #fff; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
header { padding: 10px 20px; border-bottom: 1px solid var(--line); display: flex; gap: 12px; align-items: baseline; }
header .brand { font-weight: 700; color: var(--fg); text-decoration: none; }
#busy { margin-left: auto; color: var(--muted); }
main { padding: 12px 20px 40px; max-width: 1400px; }
h1 { font-size: 20px; margin: 8px 0; word-break: break-all; }
h2 { font-size: 16px; margin: 20px 0 8px; }
h3 { font-size: 14px; margin: 14px 0 6px; }
.muted { color: var(--muted); }
.error { color: var(--bad); }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; color: var(--muted); white-space: nowrap; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
td.code, li.frame { font-family: ui-monospace, monospace; font-size: 12.5px; word-break: break-all; }
tr.alerting td:first-child { border-left: 3px solid var(--bad); }
tr.growing td.num:nth-child(2) { color: var(--bad); font-weight: 600; }
#groups tbody tr, th.sortable { cursor: pointer; }
#groups tbody tr:hover, #groups tbody tr.selected { background: #f2f4f7; }
.status-ok { color: var(--ok); }
.status-failing { color: var(--bad); }
.alert { color: var(--bad); }
.spark polyline { fill: none; stroke: #2e90fa; stroke-width: 1.5; }
ol#stack { padding-left: 28px; }
li.frame .pos { color: var(--muted); display: block; }
ul#alerts { padding-left: 18px; }
#fleet td:first-child { white-space: nowrap; }
body.busy::before { content: ''; position: fixed; top: 0; left: 0; height: 3px; width: 100%; background: linear-gradient(90deg, transparent, #2e90fa, transparent); background-size: 40% 100%; background-repeat: no-repeat; animation: busy 1s linear infinite; }
@keyframes busy { from { background-position: -40% 0; } to { background-position: 140% 0; } }
#busy { font-weight: 600; color: #2e90fa; }
.range { font-size: 13px; font-weight: 400; margin-left: 12px; }
.range a, .range button { margin-right: 6px; padding: 2px 8px; border: 1px solid var(--line); border-radius: 4px; color: var(--fg); text-decoration: none; background: var(--bg); font: inherit; cursor: pointer; }
.range a.on { background: var(--fg); color: var(--bg); border-color: var(--fg); }
.hint { margin: 0 0 4px; font-size: 12.5px; }
#summary .alert { font-weight: 600; }
.badge { background: var(--bad); color: #fff; border-radius: 3px; padding: 0 5px; font-size: 12px; }
.verdict.leaked { color: var(--bad); font-weight: 600; }
#group-summary { font-weight: 600; }
dl#ownership { display: grid; grid-template-columns: max-content 1fr; gap: 4px 14px; margin: 0; }
dl#ownership dt { color: var(--muted); }
dl#ownership dd { margin: 0; word-break: break-word; }
pre.code { background: #f9fafb; border: 1px solid var(--line); padding: 6px 8px; overflow-x: auto; font-size: 12.5px; margin: 4px 0 10px; }
pre.code .hit { background: #fee4e2; display: block; }
h4 { font-size: 13px; margin: 10px 0 4px; }
table.waits { width: auto; min-width: 60%; }
table.waits td, table.waits th { padding: 2px 8px; }
td.waits { white-space: nowrap; font-variant-numeric: tabular-nums; }
td.waits .track { display: inline-block; width: 160px; height: 10px; background: #f2f4f7; vertical-align: middle; }
td.waits .bar { display: block; height: 100%; background: #f79009; }
table.waits tr.total td { font-weight: 600; border-bottom: none; }
ul.findings { padding-left: 18px; }
.split > section { min-width: 0; }
/* A large screen: the table and the open group side by side. */
@media (min-width: 1800px) {
  main { max-width: none; }
  .split { display: grid; grid-template-columns: minmax(0, 1.1fr) minmax(0, 1fr); gap: 24px; align-items: start; }
}
`;

/** A favicon, so the browser does not ask for /favicon.ico (a 404 on every page). */
export const ICON =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><polyline points="1,14 6,10 10,11 15,2" fill="none" stroke="#b42318" stroke-width="2"/></svg>';
