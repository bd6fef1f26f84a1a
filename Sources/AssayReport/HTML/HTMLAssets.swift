/// The inline style sheet and script of the HTML reports. Constants only: nothing from a run is
/// ever placed in them (the script reads the page's own tables, through `textContent`), so
/// escaping stays with the templates.
enum HTMLAssets {
    static let css = """
    :root{--bg:#fff;--fg:#1b1f24;--muted:#57606a;--line:#d0d7de;--card:#f6f8fa;--pass:#1a7f37;--fail:#cf222e;--warn:#9a6700;--accent:#0969da;--mark:#fff8c5}
    @media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#8d96a0;--line:#30363d;--card:#161b22;--pass:#3fb950;--fail:#f85149;--warn:#d29922;--accent:#4493f8;--mark:#3b2e00}}
    *{box-sizing:border-box}
    body{margin:0;background:var(--bg);color:var(--fg);font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif}
    main{max-width:1180px;margin:0 auto;padding:0 20px 40px}
    header.verdict{padding:18px 20px;border-bottom:4px solid var(--muted)}
    header.pass{border-color:var(--pass)}header.fail{border-color:var(--fail)}header.error,header.interrupted{border-color:var(--warn)}
    header.verdict,nav.toc{padding-left:max(20px,calc((100% - 1180px)/2 + 20px));padding-right:20px}
    header h1{margin:0 0 4px;font-size:22px}
    .badge{display:inline-block;padding:1px 10px;border-radius:12px;color:#fff;background:var(--muted);font-size:16px;vertical-align:2px}
    .badge.pass{background:var(--pass)}.badge.fail{background:var(--fail)}.badge.error,.badge.interrupted{background:var(--warn)}
    .meta{color:var(--muted);margin:4px 0}
    nav.toc{display:flex;flex-wrap:wrap;gap:6px 14px;padding:10px 20px;border-bottom:1px solid var(--line);font-size:13px}
    a{color:var(--accent)}
    section{margin-top:26px}
    section.card{border:1px solid var(--line);border-radius:8px;padding:4px 16px 14px;background:var(--card)}
    h2{font-size:18px;border-bottom:1px solid var(--line);padding-bottom:4px}
    h3{font-size:16px}h3 small{color:var(--muted);font-weight:normal}
    table{border-collapse:collapse;margin:8px 0;font-variant-numeric:tabular-nums}
    th,td{border:1px solid var(--line);padding:3px 8px;text-align:left;vertical-align:top}
    td.n,th.n{text-align:right}
    th button{all:unset;cursor:pointer;font-weight:600}
    th button:focus-visible,tr:focus-visible,button:focus-visible,input:focus-visible{outline:2px solid var(--accent);outline-offset:1px}
    th[aria-sort=ascending] button::after{content:" ▲"}th[aria-sort=descending] button::after{content:" ▼"}
    .status-pass,.better{color:var(--pass)}.status-fail,.worse{color:var(--fail)}.status-error,.status-skipped{color:var(--warn)}
    .unit{color:var(--muted);font-size:12px}
    .sig{display:flex;gap:8px;align-items:center;flex-wrap:wrap}
    code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace;background:var(--bg);border:1px solid var(--line);border-radius:4px;padding:1px 4px;word-break:break-all}
    button.copy{font-size:12px;padding:1px 8px;border:1px solid var(--line);border-radius:4px;background:var(--bg);color:var(--fg);cursor:pointer}
    .error-box{border-left:4px solid var(--fail);padding:6px 10px;background:var(--bg)}
    figure{margin:10px 0}figure img{max-width:100%;background:#fff;border:1px solid var(--line)}
    .tools{display:flex;gap:10px;flex-wrap:wrap;align-items:center;margin:8px 0}
    .tools input{padding:3px 6px;border:1px solid var(--line);border-radius:4px;background:var(--bg);color:var(--fg);min-width:220px}
    .count{color:var(--muted);font-size:12px}
    .scroll{max-height:70vh;overflow:auto}
    tr.detail td{background:var(--bg)}
    dl.kv{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:4px 0}dl.kv dt{color:var(--muted)}dl.kv dd{margin:0}
    mark{background:var(--mark);color:inherit}
    td>details{min-width:18em;max-width:40em}td>details summary{cursor:pointer;color:var(--accent)}td>details p{margin:2px 0 4px}
    td>details p::before{color:var(--muted);font-size:12px}td>details p.p::before{content:"prompt: "}td>details p.h::before{content:"hypothesis: "}td>details p.o::before{content:"output: "}td>details p.r::before{content:"reference: "}td>details p.a::before{content:"A: "}td>details p.b::before{content:"B: "}td>details p.c::before{content:"context: "}td>details p.s::before{content:"scored (darker: less likely; hover for NLL): "}
    td>details p.c,td>details p.s{white-space:pre-wrap}span.n1{background:rgba(207,34,46,.16)}span.n2{background:rgba(207,34,46,.32)}span.n3{background:rgba(207,34,46,.5)}span.n4{background:rgba(207,34,46,.7)}
    @media (prefers-color-scheme:dark){span.n1{background:rgba(248,81,73,.28)}span.n2{background:rgba(248,81,73,.45)}span.n3{background:rgba(248,81,73,.62)}span.n4{background:rgba(248,81,73,.8)}}
    .spark{vertical-align:middle}
    footer{color:var(--muted);font-size:12px;margin-top:30px}
    """

    /// Enhances `table.items`: search (`q`), a numeric filter (`f`, e.g. `sentence_bleu < 10`),
    /// sorting by a column (`sort=column:asc|desc`), all also read from the URL fragment
    /// (`#q=…&f=…&sort=…`; a filter or sort only on tables with that column) so a link (or a test)
    /// can open the page filtered; `/` focuses the search;
    /// arrow keys move between rows and Enter opens a row's details. It counts script errors into
    /// `data-errors` on `<html>` and records, in ms since navigation start, the first contentful
    /// paint (`data-first-paint-ms`), when every row was parsed and enhanced (`data-ready-ms`) and
    /// when the next frame had been laid out (`data-rendered-ms`, if the page lives that long).
    static let script = """
    (function(){
    "use strict";
    var root=document.documentElement;root.dataset.errors="0";
    window.addEventListener("error",function(){root.dataset.errors=String(Number(root.dataset.errors)+1)});
    function num(t){var v=parseFloat(t);return isNaN(v)?(t==="inf"?Infinity:t==="-inf"?-Infinity:NaN):v}
    function decode(t){try{return decodeURIComponent(t.replace(/\\+/g," "))}catch(e){return t}}
    var params={};location.hash.replace(/^#/,"").split("&").forEach(function(p){var i=p.indexOf("=");if(i>0)params[decode(p.slice(0,i))]=decode(p.slice(i+1))});
    function parseFilter(text){var m=/^\\s*([\\w.\\-]+)\\s*(<=|>=|!=|=|<|>)\\s*(-?[\\d.eE+\\-]+|nan|inf|-inf)\\s*$/.exec(text||"");return m?{col:m[1],op:m[2],value:num(m[3])}:null}
    function test(v,f){switch(f.op){case"<":return v<f.value;case">":return v>f.value;case"<=":return v<=f.value;case">=":return v>=f.value;case"=":return v===f.value;default:return v!==f.value}}
    function enhance(table){
      var body=table.tBodies[0];if(!body)return;
      var heads=Array.prototype.slice.call(table.tHead.rows[0].cells);
      var names=heads.map(function(h){return h.dataset.col||h.textContent.trim()});
      var rows=Array.prototype.slice.call(body.rows);
      var tools=document.createElement("div");tools.className="tools";
      var search=document.createElement("input");search.type="search";search.placeholder="Search items ( / )";search.setAttribute("aria-label","Search items");
      var filter=document.createElement("input");filter.type="text";filter.placeholder="Filter, e.g. "+(names[1]||"value")+" < 10";filter.setAttribute("aria-label","Filter items by a column");
      var count=document.createElement("span");count.className="count";count.setAttribute("aria-live","polite");
      tools.appendChild(search);tools.appendChild(filter);tools.appendChild(count);
      table.parentNode.parentNode.insertBefore(tools,table.parentNode);
      // A row's cells as one lower-case text, tab-separated so a search never spans two cells; a
      // drill-down counts as its paragraphs (not its "texts" label), one per line.
      function cellText(c){var d=c.querySelector("details");if(!d)return c.textContent;return Array.prototype.map.call(d.querySelectorAll("p"),function(p){return p.textContent}).join("\\n")}
      function text(r){if(r._text===undefined){var t=[];for(var i=0;i<r.cells.length;i++)t.push(cellText(r.cells[i]));r._text=t.join("\\t").toLowerCase()}return r._text}
      function apply(){
        var q=search.value.trim().toLowerCase(),f=parseFilter(filter.value),col=f?names.indexOf(f.col):-1,shown=0;
        filter.setCustomValidity(filter.value.trim()&&(!f||col<0)?"use: column < number":"");
        rows.forEach(function(r){
          var ok=(!q||text(r).indexOf(q)>=0)&&(!f||col<0||test(num(r.cells[col].textContent),f));
          if(r.hidden===ok){r.hidden=!ok;if(r._detail)r._detail.hidden=!ok}if(ok)shown++});
        count.textContent="showing "+shown+" of "+rows.length;table.dataset.visibleRows=String(shown);
        // Keep one visible row in the tab order.
        var current=rows.filter(function(r){return r.tabIndex===0})[0],first=rows.filter(function(r){return!r.hidden})[0];
        if(first&&(!current||current.hidden)){if(current)current.tabIndex=-1;first.tabIndex=0}
      }
      function sortBy(index,dir){
        heads.forEach(function(h){h.removeAttribute("aria-sort")});heads[index].setAttribute("aria-sort",dir>0?"ascending":"descending");
        var numeric=heads[index].classList.contains("n");
        var keyed=rows.map(function(r,i){var t=r.cells[index].textContent;return{r:r,k:numeric?num(t):t.toLowerCase(),i:i}});
        keyed.sort(function(a,b){var x=a.k,y=b.k;if(numeric){if(isNaN(x))return isNaN(y)?a.i-b.i:1;if(isNaN(y))return -1}
          return x<y?-dir:x>y?dir:a.i-b.i});
        var frag=document.createDocumentFragment();
        keyed.forEach(function(k){frag.appendChild(k.r);if(k.r._detail)frag.appendChild(k.r._detail)});body.appendChild(frag);
        rows=keyed.map(function(k){return k.r});table.dataset.sortedBy=names[index]+":"+(dir>0?"asc":"desc");
      }
      heads.forEach(function(h,i){var b=document.createElement("button");b.type="button";while(h.firstChild)b.appendChild(h.firstChild);h.appendChild(b);
        b.addEventListener("click",function(){sortBy(i,h.getAttribute("aria-sort")==="ascending"?-1:1)})});
      if(rows.length)rows[0].tabIndex=0;  // one row in the tab order; the arrow keys move it
      body.addEventListener("keydown",function(e){
        var r=e.target.closest("tr");if(!r||r.className==="detail"||e.target.closest("details"))return;
        var visible=rows.filter(function(x){return!x.hidden}),i=visible.indexOf(r);
        if(e.key==="ArrowDown"||e.key==="ArrowUp"){var n=visible[i+(e.key==="ArrowDown"?1:-1)];if(n){r.tabIndex=-1;n.tabIndex=0;n.focus()}e.preventDefault()}
        else if(e.key==="Enter"){toggle(r);e.preventDefault()}});
      body.addEventListener("dblclick",function(e){var r=e.target.closest("tr");if(r&&r.className!=="detail"&&!e.target.closest("details"))toggle(r)});
      function toggle(r){
        if(r._detail){r._detail.remove();r._detail=null;r.removeAttribute("aria-expanded");return}
        var d=document.createElement("tr");d.className="detail";var td=document.createElement("td");td.colSpan=names.length;
        var dl=document.createElement("dl");dl.className="kv";
        names.forEach(function(n,i){var dt=document.createElement("dt");dt.textContent=n;var dd=document.createElement("dd");dd.textContent=cellText(r.cells[i]);dl.appendChild(dt);dl.appendChild(dd)});
        td.appendChild(dl);d.appendChild(td);r.parentNode.insertBefore(d,r.nextSibling);r._detail=d;r.setAttribute("aria-expanded","true")}
      search.addEventListener("input",apply);filter.addEventListener("input",apply);
      // From the address: a search for every table, a filter or sort only where the column exists.
      if(params.q)search.value=params.q;
      if(params.f){var pf=parseFilter(params.f);if(pf&&names.indexOf(pf.col)>=0)filter.value=params.f}
      if(params.sort){var s=params.sort.split(":"),k=names.indexOf(s[0]);if(k>=0)sortBy(k,s[1]==="desc"?-1:1)}
      apply();return search;
    }
    var searches=Array.prototype.map.call(document.querySelectorAll("table.items"),enhance);
    document.addEventListener("keydown",function(e){if(e.key==="/"&&!/input|textarea/i.test(e.target.tagName)&&searches[0]){searches[0].focus();e.preventDefault()}});
    Array.prototype.forEach.call(document.querySelectorAll("button.copy"),function(b){b.hidden=false;b.addEventListener("click",function(){
      var text=b.dataset.copy,done=function(){b.textContent="Copied";setTimeout(function(){b.textContent="Copy"},1500)};
      if(navigator.clipboard&&navigator.clipboard.writeText)navigator.clipboard.writeText(text).then(done,function(){});else done()})});
    var paint=performance.getEntriesByType("paint").filter(function(e){return e.name==="first-contentful-paint"})[0];
    if(paint)root.dataset.firstPaintMs=paint.startTime.toFixed(1);
    root.dataset.readyMs=performance.now().toFixed(1);
    // After the next frame's style and layout: the tables are on screen.
    requestAnimationFrame(function(){setTimeout(function(){root.dataset.renderedMs=performance.now().toFixed(1)},0)});
    })();
    """
}
