package report

// stylesheet is the page's only style, inlined so the report needs no
// fetch. System fonts only. Verdicts carry a colour and a symbol each; the
// print rules keep the colours of the banner and the chips, write out
// where a fix's README link leads, print re-send commands whole in a
// smaller type, and avoid breaking a check or an exchange across pages;
// a click on a re-send command selects all of it, for copying; below 40rem the layout
// goes to one column so the page reads on a phone, and a table of figures
// wider than the phone scrolls by itself rather than the page.
const stylesheet = `
:root{--ink:#1b1f24;--muted:#59636e;--line:#d8dde3;--soft:#f5f7f9;
--pass:#1e7d34;--fail:#b3261e;--warn:#a85400;--skip:#55606e;--info:#1d5fa8;--aff:#6a3d9a;
--pass-bg:#e8f5ec;--fail-bg:#fdecea;--warn-bg:#fff3e0;--skip-bg:#eef1f4;--info-bg:#e8f0fb;--aff-bg:#f2ecf8}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{margin:0;color:var(--ink);background:#fff;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main,footer{max-width:76rem;margin:0 auto;padding:0 1rem}
code,pre,.id,.url,.at,.m,.st,.chip{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"DejaVu Sans Mono",monospace}
pre{margin:.25rem 0;padding:.5rem .6rem;background:var(--soft);border:1px solid var(--line);border-radius:4px;font-size:12.5px;line-height:1.4;white-space:pre-wrap;overflow-wrap:anywhere;max-height:24rem;overflow:auto}
h2{font-size:1.2rem;margin:1.4rem 0 .5rem}
h3{font-size:1.05rem;margin:1.2rem 0 .4rem}
h4{font-size:.8rem;text-transform:uppercase;letter-spacing:.04em;color:var(--muted);margin:.8rem 0 .2rem}
h5{font-size:.75rem;text-transform:uppercase;letter-spacing:.04em;color:var(--muted);margin:.2rem 0}
a{color:inherit}
.k{font-size:.75rem;text-transform:uppercase;letter-spacing:.05em;opacity:.8;margin-right:.35rem}

/* verdict banner */
.banner{color:#fff;padding:1rem max(1rem,calc((100% - 74rem)/2)) 1.1rem;background:var(--pass)}
.banner.b-fail{background:var(--fail)}.banner.b-warn{background:var(--warn)}
.banner.b-partial{background:var(--skip)}.banner.b-cannot{background:#6d1b16}
.kicker{margin:0;font-size:.8rem;text-transform:uppercase;letter-spacing:.08em;opacity:.85}
.banner h1{margin:.1rem 0 .2rem;font-size:2.3rem;line-height:1.1;letter-spacing:.01em}
.counts{margin:0 0 .3rem;font-size:1.05rem;font-weight:600}
.target{margin:0 0 .3rem;overflow-wrap:anywhere}.target code{font-size:.95rem}
.facts{display:grid;grid-template-columns:repeat(auto-fill,minmax(10.5rem,1fr));gap:.2rem 1rem;margin:.5rem 0 0;font-size:.85rem}
.facts div{min-width:0}.facts dt{font-size:.7rem;text-transform:uppercase;letter-spacing:.05em;opacity:.8}
.facts dd{margin:0;overflow-wrap:anywhere}

.alert{margin:1rem 0;padding:.6rem .8rem;border-left:4px solid var(--fail);background:var(--fail-bg)}
.notes{margin:.6rem 0;padding-left:1.2rem;color:var(--muted)}

/* what failed, first screen */
.why{margin:1rem 0;padding:.3rem .9rem .6rem;border:1px solid var(--line);border-left:5px solid var(--fail);border-radius:4px;background:var(--fail-bg)}
.why.v-WARN{border-left-color:var(--warn);background:var(--warn-bg)}
.why.v-AFFECTED{border-left-color:var(--aff);background:var(--aff-bg)}
.why h2{margin:.4rem 0}
.why ol{margin:0;padding-left:1.3rem}
.why>ol>li{margin:.3rem 0}
.why .id{font-weight:700}
.why .title{font-weight:600}
.lvl{display:inline-block;font-size:.7rem;font-weight:700;letter-spacing:.04em;padding:0 .3rem;border:1px solid currentColor;border-radius:3px;vertical-align:.1em}
.steps{list-style:none;margin:.1rem 0 0;padding:0;font-size:.9rem}
.steps li{display:flex;flex-wrap:wrap;gap:.1rem .8rem;padding:.15rem 0;border-top:1px dashed rgba(0,0,0,.12)}
.steps .what{flex:1 0 100%;color:var(--muted);overflow-wrap:anywhere}
.steps .exp,.steps .obs{white-space:pre-wrap;overflow-wrap:anywhere}
.steps .obs{font-weight:600}

/* matrix */
.legend{margin:.2rem 0 .5rem}
.matrix{border-collapse:collapse;width:100%}
.matrix th{text-align:left;vertical-align:top;font-weight:600;padding:.35rem .8rem .35rem 0;width:9rem;white-space:nowrap}
.matrix td{padding:.25rem 0;border-top:1px solid var(--line)}
.matrix tr:first-child td{border-top:0}
.chip{display:inline-block;margin:.12rem .1rem;padding:.05rem .4rem;border-radius:3px;font-size:.82rem;text-decoration:none;border:1px solid transparent;white-space:nowrap}
.chip .sym,.badge .sym,.vh .sym{display:inline-block;width:1em;text-align:center;margin-right:.15rem;font-weight:700}
.v-PASS.chip,.badge.v-PASS{background:var(--pass-bg);color:var(--pass);border-color:#b5dcc0}
.v-FAIL.chip,.badge.v-FAIL{background:var(--fail);color:#fff}
.v-WARN.chip,.badge.v-WARN{background:var(--warn);color:#fff}
.v-AFFECTED.chip,.badge.v-AFFECTED{background:var(--aff);color:#fff}
.v-SKIP.chip,.badge.v-SKIP,.v-N\/A.chip,.badge.v-N\/A{background:var(--skip-bg);color:var(--skip);border-color:#cbd2da}
.v-INFO.chip,.badge.v-INFO{background:var(--info-bg);color:var(--info);border-color:#bcd0ee}
a.chip:hover,a.chip:focus{outline:2px solid var(--ink);outline-offset:1px}

/* load */
.kv{display:grid;grid-template-columns:repeat(auto-fill,minmax(12rem,1fr));gap:.3rem 1rem;margin:.4rem 0}
.kv dt{font-size:.72rem;text-transform:uppercase;letter-spacing:.04em;color:var(--muted)}
.kv dd{margin:0;font-weight:600}
.ok{color:var(--pass)}.bad{color:var(--fail);font-weight:700}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,30rem),1fr));gap:1rem}
figure{margin:0;min-width:0}figcaption{font-weight:600;margin:.3rem 0}
svg.chart{width:100%;height:auto;display:block;font-family:system-ui,sans-serif}
svg .grid{stroke:#e6e9ed;stroke-width:1}svg .axis{stroke:#8a939c;stroke-width:1}
svg .tick{font-size:11px;fill:var(--muted)}svg .value{font-size:11px;fill:var(--ink)}
svg .axis-label{font-size:11px;fill:var(--muted)}
svg .bar{fill:#4a7fc1}svg .bar.over{fill:var(--fail)}
svg .deadline{stroke:var(--fail);stroke-width:1.5;stroke-dasharray:5 3}
svg .deadline-label{font-size:11px;fill:var(--fail);font-weight:600}
svg .series{fill:none;stroke-width:2}svg .s-p50{stroke:#4a7fc1}svg .s-p99{stroke:#d9822b}svg .s-max{stroke:#9aa3ad;stroke-dasharray:3 2}
svg .err{fill:var(--fail)}
.pct{border-collapse:collapse;margin:.4rem 0;font-size:.85rem}
.pct th,.pct td{padding:.1rem .5rem;border:1px solid var(--line);text-align:right}
.tables{display:flex;flex-wrap:wrap;gap:1rem;align-items:flex-start}
table.small{border-collapse:collapse;font-size:.85rem;margin:.6rem 0}
table.small caption{text-align:left;font-weight:600;padding:.2rem 0}
table.small th,table.small td{padding:.15rem .6rem;border-bottom:1px solid var(--line);text-align:left}
.files{overflow-wrap:anywhere}

/* checks */
.vh{padding-bottom:.2rem;border-bottom:2px solid currentColor}
.vh.v-PASS{color:var(--pass)}.vh.v-FAIL{color:var(--fail)}.vh.v-WARN{color:var(--warn)}.vh.v-SKIP,.vh.v-N\/A{color:var(--skip)}.vh.v-INFO{color:var(--info)}.vh.v-AFFECTED{color:var(--aff)}
.check{margin:.4rem 0;border:1px solid var(--line);border-left:5px solid var(--line);border-radius:4px;background:#fff}
.check.v-FAIL{border-left-color:var(--fail)}.check.v-WARN{border-left-color:var(--warn)}.check.v-AFFECTED{border-left-color:var(--aff)}
.check.v-PASS{border-left-color:var(--pass)}.check.v-SKIP,.check.v-N\/A{border-left-color:#9aa3ad}.check.v-INFO{border-left-color:var(--info)}
.check>summary{cursor:pointer;padding:.4rem .6rem;list-style-position:inside}
.check[open]>summary{border-bottom:1px solid var(--line)}
.badge{display:inline-block;min-width:4.2rem;padding:0 .35rem;border-radius:3px;font-size:.78rem;font-weight:700;font-family:ui-monospace,monospace}
summary .id{font-weight:700}
summary .meta{color:var(--muted);font-size:.82rem;white-space:nowrap}
.skip-reason{display:block;margin:.1rem 0 0 1.2rem;color:var(--muted);font-size:.88rem}
.check .body{padding:.2rem .8rem .7rem}
.req{margin:.5rem 0}
.seed{margin:.4rem 0;padding:.3rem .7rem;border-left:3px solid var(--line);color:var(--muted);font-style:italic}
.seed .k{font-style:normal}
p.reason{margin:.5rem 0 0}
.eo{display:grid;grid-template-columns:1fr 1fr;gap:.8rem}
.eo>div{min-width:0}
.check.v-FAIL pre.observed{border-color:#e8a39d;background:var(--fail-bg)}
.check.v-WARN pre.observed{border-color:#f0c48a;background:var(--warn-bg)}
.fix{margin:.6rem 0;padding:.35rem .7rem;border-left:3px solid var(--info);background:var(--info-bg);overflow-wrap:anywhere}
.why .fix{margin:.25rem 0 .1rem;padding:.15rem .5rem;font-size:.9rem}
.fix a{text-decoration:underline}

/* evidence timeline */
.timeline{list-style:none;margin:.3rem 0 0;padding:0 0 0 .9rem;border-left:2px solid var(--line)}
.ex{position:relative;margin:.25rem 0}
.ex::before{content:"";position:absolute;left:-1.25rem;top:.55rem;width:.6rem;height:.6rem;border-radius:50%;background:var(--pass);border:2px solid #fff}
.ex.not2xx::before{background:var(--warn)}.ex.noanswer::before{background:var(--skip)}
.ex>details>summary{cursor:pointer;font-size:.85rem;overflow-wrap:anywhere}
.ex .at{color:var(--muted)}.ex .m{font-weight:700}.ex .st{font-weight:700}
.ex .att{color:var(--muted);font-size:.8rem}
.exb{display:grid;grid-template-columns:1fr 1fr;gap:.8rem;margin:.2rem 0 .6rem;padding:.4rem .6rem;border:1px solid var(--line);border-radius:4px}
.exb>div{min-width:0}
.bh{margin:.3rem 0 0;font-size:.8rem;color:var(--muted)}
.hdr{border-collapse:collapse;font-size:12px;font-family:ui-monospace,monospace;width:100%;table-layout:fixed}
.hdr th{text-align:left;font-weight:600;padding:.05rem .5rem .05rem 0;width:40%;vertical-align:top;overflow-wrap:anywhere}
.hdr td{padding:.05rem 0;overflow-wrap:anywhere}
.resend{margin:-.3rem 0 .6rem}
.resend pre{background:#fff;border-style:dashed;-webkit-user-select:all;user-select:all}

footer{margin-top:2rem;padding-bottom:2rem;color:var(--muted);font-size:.85rem;border-top:1px solid var(--line)}

/* phones */
@media (max-width:40rem){
body{font-size:14px}
.banner h1{font-size:1.7rem}
.facts{grid-template-columns:1fr 1fr}
.eo,.exb{grid-template-columns:1fr}
.matrix th{display:block;width:auto;padding-bottom:0}
.matrix td{display:block;border-top:0}
.matrix tr{display:block;border-top:1px solid var(--line)}
summary .meta{white-space:normal}
.pct,table.small{display:block;max-width:100%;overflow-x:auto}
}

/* paper */
@media print{
@page{margin:12mm}
body{font-size:10pt}
.banner,.chip,.badge,.why,.fix,pre,svg{-webkit-print-color-adjust:exact;print-color-adjust:exact}
.banner{padding:.6rem .8rem}
main,footer{max-width:none;padding:0}
a{text-decoration:none}
.fix a::after{content:" (" attr(href) ")";font-size:.85em}
pre{max-height:none;overflow:visible}
#matrix,.ex,.why>ol>li,figure,.eo,table{break-inside:avoid}
.resend pre{font-size:8pt}
.check>summary{break-after:avoid}
h2,h3,h4{break-after:avoid}
}
`
