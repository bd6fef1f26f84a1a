import Mustache

/// The Mustache templates of the HTML reports. Every `{{value}}` is HTML-escaped (`&`, `<`, `>`,
/// `"`, `'`) by ``ScalarHTMLEscaping``, which each template selects with its first line (the
/// library's own HTML escaping compares whole characters, so a quote followed by a combining mark
/// would pass into an attribute unescaped; and a partial starts over with that default); the only
/// unescaped `{{{…}}}` are the constant style sheet and script of ``HTMLAssets``. A view always
/// gives every key a value (a missing one would be looked up in the enclosing context).
enum HTMLTemplates {
    /// The pragma every template starts with.
    static let escaping = "{{% CONTENT_TYPE: \(ScalarHTMLEscaping.name)}}"

    static let page = escaping + """
    <!DOCTYPE html>
    <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">\
    <meta name="color-scheme" content="light dark"><title>{{title}}</title><style>{{{css}}}</style></head>
    <body data-verdict="{{verdict}}">
    {{#run}}{{> run}}{{/run}}{{#comparison}}{{> comparison}}{{/comparison}}{{#history}}{{> history}}{{/history}}
    <script>{{{script}}}</script>
    </body></html>

    """

    static let run = escaping + """
    <header class="verdict {{verdict}}"><h1><span class="badge {{verdict}}">{{verdictLabel}}</span> {{suite}}</h1>
    <p>{{sentence}}</p><p class="meta">{{meta}}</p><p class="meta">Suite file {{suiteFile}} · SHA-256 {{suiteHash}}</p></header>
    <nav class="toc" aria-label="Sections"><a href="#gates">Gates</a><a href="#evaluations">Evaluations</a>\
    {{#evaluations}}<a href="#{{anchor}}">{{id}}</a>{{/evaluations}}<a href="#models">Models</a></nav>
    <main>
    <section id="gates"><h2>Gates</h2>{{^gates}}<p>No gates in this suite.</p>{{/gates}}{{#hasGates}}<div class="scroll"><table class="gates">
    <thead><tr><th>Status</th><th>Metric</th><th>Rule</th><th class="n">Value</th><th class="n">Threshold</th><th class="n">Baseline</th>\
    <th class="n">Δ</th><th>Detail</th></tr></thead><tbody>
    {{#gates}}<tr><td class="status-{{status}}">{{status}}</td><td>{{metric}}</td><td>{{rule}}</td><td class="n">{{value}}</td>\
    <td class="n">{{threshold}}</td><td class="n">{{baseline}}</td><td class="n">{{delta}}</td><td>{{message}}</td></tr>
    {{/gates}}</tbody></table></div>{{/hasGates}}{{#baselineRun}}<p class="meta">Baseline run: {{baselineRun}}</p>{{/baselineRun}}</section>
    <section id="evaluations"><h2>Evaluations</h2><div class="scroll"><table><thead><tr><th>Evaluation</th><th>Evaluator</th><th>Status</th>\
    <th>Metrics</th><th class="n">Time</th></tr></thead><tbody>
    {{#evaluations}}<tr><td><a href="#{{anchor}}">{{id}}</a></td><td>{{evaluator}}</td><td class="status-{{statusClass}}">{{status}}</td>\
    <td>{{headline}}</td><td class="n">{{seconds}} s</td></tr>
    {{/evaluations}}</tbody></table></div></section>
    {{#evaluations}}
    <section id="{{anchor}}" class="card"><h3>{{id}} <small>{{evaluator}} · {{status}} · {{seconds}} s</small></h3>
    {{#error}}<p class="error-box">{{error}}</p>{{/error}}
    {{#signature}}<div class="sig"><span>Signature</span><code>{{signature}}</code>\
    <button class="copy" type="button" data-copy="{{signature}}" hidden>Copy</button></div>{{/signature}}
    {{#hasMetrics}}<div class="scroll"><table class="metrics"><thead><tr><th>Metric</th><th class="n">Value</th><th>95 % CI</th>\
    <th class="n">± stderr</th><th>Unit</th><th>Better</th></tr></thead><tbody>
    {{#metrics}}<tr><td>{{name}}{{#note}}<div class="unit">{{note}}</div>{{/note}}</td><td class="n">{{value}}</td><td>{{ci}}</td>\
    <td class="n">{{stderr}}</td><td class="unit">{{unit}}</td><td>{{better}}</td></tr>
    {{/metrics}}</tbody></table></div>{{/hasMetrics}}
    {{#charts}}<figure><img src="{{source}}" alt="{{title}}"><figcaption>{{title}}</figcaption></figure>{{/charts}}
    {{#itemTable}}{{> items}}{{/itemTable}}
    </section>
    {{/evaluations}}
    <section id="models"><h2>Models</h2>{{^models}}<p>No models in this suite.</p>{{/models}}{{#hasModels}}<div class="scroll"><table>\
    <thead><tr><th>Name</th><th>Path</th><th>Format</th><th>SHA-256</th></tr></thead><tbody>
    {{#models}}<tr><td>{{name}}</td><td>{{path}}</td><td>{{format}}</td><td><code>{{sha}}</code></td></tr>
    {{/models}}</tbody></table></div>{{/hasModels}}</section>
    <footer>{{footer}}</footer>
    </main>

    """

    /// A per-item table: `caption`, `evaluation`, `columns` ({name, cls}), `rows` ({cells: [{text, cls,
    /// drill}]}, `drill` an item's texts — `lines` of {kind, segments: [{t, m}]}, from
    /// ``HTMLReport/ItemTexts`` — or absent);
    /// `cls` is a class name or false (no attribute: ten thousand `class=""` weigh on parsing).
    static let items = escaping + """
    <h4>{{caption}}</h4><div class="scroll"><table class="items" data-evaluation="{{evaluation}}"><thead><tr>\
    {{#columns}}<th{{#cls}} class="{{cls}}"{{/cls}} data-col="{{name}}">{{name}}</th>{{/columns}}</tr></thead><tbody>
    {{#rows}}<tr>{{#cells}}<td{{#cls}} class="{{cls}}"{{/cls}}>{{text}}{{#drill}}<details><summary>texts</summary>\
    {{#lines}}<p class="{{kind}}">{{#segments}}{{#s}}<span class="{{s}}" title="{{n}}">{{t}}</span>{{/s}}{{^s}}{{#m}}<mark>{{t}}</mark>{{/m}}{{^m}}{{t}}{{/m}}{{/s}}{{/segments}}</p>{{/lines}}</details>{{/drill}}</td>{{/cells}}</tr>
    {{/rows}}</tbody></table></div>

    """

    static let comparison = escaping + """
    <header class="verdict"><h1>{{title}}</h1>
    <p class="meta"><span class="badge {{verdictA}}">{{labelA}}</span> A (reference): {{runA}} · {{startedA}}</p>
    <p class="meta"><span class="badge {{verdictB}}">{{labelB}}</span> B: {{runB}} · {{startedB}}</p></header>
    <main>
    <section id="metrics"><h2>Metrics</h2>{{#metricTable}}{{> items}}{{/metricTable}}</section>
    {{#evaluations}}
    <section id="{{anchor}}" class="card"><h3>{{id}}</h3>
    <p>{{summary}} <span class="{{verdictClass}}">{{verdict}}</span></p>
    {{#itemTable}}{{> items}}{{/itemTable}}
    </section>
    {{/evaluations}}
    <footer>{{footer}}</footer>
    </main>

    """

    static let history = escaping + """
    <header class="verdict"><h1>{{title}}</h1><p class="meta">{{meta}}</p></header>
    <main>
    <section id="trends"><h2>Gated metrics</h2>{{^metrics}}<p>No gated metric has a value in these runs.</p>{{/metrics}}{{#hasMetrics}}\
    <div class="scroll"><table class="trends"><thead><tr><th>Metric</th><th>Trend (oldest → newest)</th><th class="n">First</th>\
    <th class="n">Latest</th><th class="n">Δ</th><th class="n">Runs</th></tr></thead><tbody>
    {{#metrics}}<tr><td>{{name}}</td><td><img class="spark" src="{{spark}}" alt="{{alt}}" width="160" height="32"></td>\
    <td class="n">{{first}}</td><td class="n">{{latest}}</td><td class="n">{{delta}}</td><td class="n">{{count}}</td></tr>
    {{/metrics}}</tbody></table></div>{{/hasMetrics}}</section>
    <section id="runs">{{#runTable}}{{> items}}{{/runTable}}</section>
    <footer>{{footer}}</footer>
    </main>

    """

    /// The templates, parsed once. They are constants of this file: a parse error is a
    /// programming error that every test of the HTML report would show at once.
    static let library: MustacheLibrary = {
        // Registered before parsing: the parser resolves the pragma's name.
        MustacheContentTypes.register(ScalarHTMLEscaping(), named: ScalarHTMLEscaping.name)
        var library = MustacheLibrary()
        for (name, text) in [("page", page), ("run", run), ("items", items), ("comparison", comparison), ("history", history)] {
            do { try library.register(text, named: name) } catch { preconditionFailure("HTML template \(name): \(error)") }
        }
        return library
    }()

    /// The page for `view` (which holds `title`, `verdict` and one of `run`, `comparison`, `history`).
    static func render(_ view: [String: Any]) -> String {
        var context = view
        context["css"] = HTMLAssets.css
        context["script"] = HTMLAssets.script
        return library.render(context, withTemplate: "page") ?? ""
    }
}

/// HTML escaping of every Unicode scalar `&`, `<`, `>`, `"` and `'`, wherever it stands — also
/// inside a grapheme cluster (`"` + U+0301 is one `Character`, which character-wise escaping
/// leaves whole and unescaped).
struct ScalarHTMLEscaping: MustacheContentType {
    static let name = "HTML_SCALARS"

    func escapeText(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        // Entities appended scalar by scalar: appending a String.UnicodeScalarView each time grows
        // quadratically with the output.
        func append(_ entity: StaticString) { entity.withUTF8Buffer { for byte in $0 { out.append(Unicode.Scalar(byte)) } } }
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": append("&amp;")
            case "<": append("&lt;")
            case ">": append("&gt;")
            case "\"": append("&quot;")
            case "'": append("&#39;")
            default: out.append(scalar)
            }
        }
        return String(out)
    }
}
