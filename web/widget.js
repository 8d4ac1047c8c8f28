/*!
 * Coach Partenariat — widget de discussion de Sales In Progress.
 * Sans dépendance, sans étape de construction : un seul <script src=".../widget.js">.
 * Parle au canal REST standard de Rasa : POST {rasaUrl}/webhooks/rest/webhook.
 *
 * Règles tenues ici :
 * - rien n'est écrit dans le stockage du navigateur avant que le visiteur ouvre la discussion ;
 * - tout texte (bot ou visiteur) est inséré comme texte (textContent / nœuds texte), jamais comme HTML ;
 * - un lien n'est créé que pour une adresse http(s).
 */
(function () {
  "use strict";

  if (window.CoachPartenariat && window.CoachPartenariat.version) {
    return; // déjà chargé sur cette page
  }

  var VERSION = "1.0.0";
  var MAX_CHARS = 2000;
  var MAX_HISTORY = 200;
  var STATE_VERSION = 1;
  var SVG_NS = "http://www.w3.org/2000/svg";

  var SCRIPT =
    document.currentScript ||
    (function () {
      var all = document.querySelectorAll('script[src*="widget.js"]');
      return all.length ? all[all.length - 1] : null;
    })();

  var DEFAULTS = {
    rasaUrl: "http://localhost:5005",
    title: "Marc, votre coach partenariat",
    subtitle: "Sales In Progress",
    launcherLabel: "Discuter avec Marc",
    botName: "Marc",
    primaryColor: "#1b4d7a",
    onPrimaryColor: "#ffffff",
    accentColor: "#c2570c",
    position: "right",
    greetPayload: "/greet",
    storageKey: "coach-partenariat",
    requestTimeoutMs: 30000,
    cssUrl: null
  };

  // ------------------------------------------------------------------ config

  function coerce(value, defaultValue) {
    if (typeof defaultValue === "number") {
      var n = Number(value);
      return isFinite(n) && n > 0 ? n : defaultValue;
    }
    if (typeof defaultValue === "boolean") {
      if (typeof value === "boolean") return value;
      return value === "" || value === "true" || value === "1";
    }
    return value === false ? false : String(value);
  }

  function readConfig() {
    var cfg = {};
    var key;
    for (key in DEFAULTS) cfg[key] = DEFAULTS[key];
    var ds = SCRIPT && SCRIPT.dataset ? SCRIPT.dataset : {};
    var win = window.CoachPartenariatConfig;
    for (key in DEFAULTS) {
      // ordre de priorité : valeurs par défaut < attributs data-* < window.CoachPartenariatConfig
      if (ds[key] !== undefined) cfg[key] = coerce(ds[key], DEFAULTS[key]);
      if (win && typeof win === "object" && win[key] !== undefined && win[key] !== null) {
        cfg[key] = coerce(win[key], DEFAULTS[key]);
      }
    }
    cfg.rasaUrl = String(cfg.rasaUrl || DEFAULTS.rasaUrl).replace(/\/+$/, "");
    if (cfg.cssUrl === null || cfg.cssUrl === undefined || cfg.cssUrl === "null") {
      cfg.cssUrl = SCRIPT && SCRIPT.src ? new URL("widget.css", SCRIPT.src).href : null;
    } else if (cfg.cssUrl === "false") {
      cfg.cssUrl = false;
    }
    cfg.position = cfg.position === "left" ? "left" : "right";
    return cfg;
  }

  // ----------------------------------------------------------------- storage

  function makeStore(key) {
    var ls = null;
    var memory = null;
    try {
      ls = window.localStorage;
    } catch (e) {
      ls = null;
    }
    return {
      load: function () {
        var raw = null;
        try {
          raw = ls ? ls.getItem(key) : memory;
        } catch (e) {
          raw = memory;
        }
        if (!raw) return null;
        try {
          var data = JSON.parse(raw);
          if (
            !data ||
            data.v !== STATE_VERSION ||
            typeof data.senderId !== "string" ||
            !Array.isArray(data.messages)
          ) {
            return null;
          }
          if (!Array.isArray(data.queue)) data.queue = [];
          return data;
        } catch (e) {
          return null;
        }
      },
      save: function (data) {
        var raw = JSON.stringify(data);
        try {
          if (ls) {
            ls.setItem(key, raw);
            return;
          }
        } catch (e) {
          /* stockage plein ou interdit : on garde en mémoire */
        }
        memory = raw;
      }
    };
  }

  function randomId() {
    var c = window.crypto || window.msCrypto;
    if (c && typeof c.randomUUID === "function") {
      try {
        return c.randomUUID();
      } catch (e) {
        /* contexte non sécurisé : on passe à getRandomValues */
      }
    }
    var bytes = new Uint8Array(16);
    if (c && typeof c.getRandomValues === "function") {
      c.getRandomValues(bytes);
    } else {
      for (var i = 0; i < 16; i++) bytes[i] = Math.floor(Math.random() * 256);
    }
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = [];
    for (var j = 0; j < 16; j++) hex.push((bytes[j] + 0x100).toString(16).slice(1));
    return (
      hex.slice(0, 4).join("") + "-" + hex.slice(4, 6).join("") + "-" + hex.slice(6, 8).join("") +
      "-" + hex.slice(8, 10).join("") + "-" + hex.slice(10, 16).join("")
    );
  }

  // -------------------------------------------------------------- DOM utils

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function svgEl(tag, attrs) {
    var node = document.createElementNS(SVG_NS, tag);
    if (attrs) {
      for (var k in attrs) {
        if (Object.prototype.hasOwnProperty.call(attrs, k)) node.setAttribute(k, String(attrs[k]));
      }
    }
    return node;
  }

  function srOnly(text) {
    return el("span", "cp-sr", text);
  }

  var URL_RE = /\b(?:https?:\/\/|www\.)[^\s<>"«»]+/gi;
  var TRAILING = /[.,;:!?'")\]}»…]+$/;

  function safeHref(raw) {
    var candidate = /^www\./i.test(raw) ? "https://" + raw : raw;
    try {
      var u = new URL(candidate);
      if (u.protocol === "http:" || u.protocol === "https:") return u.href;
    } catch (e) {
      /* pas une adresse valide */
    }
    return null;
  }

  /** Ajoute une ligne de texte à `parent`, en transformant les adresses http(s) en liens. */
  function appendLine(parent, line) {
    var last = 0;
    var match;
    URL_RE.lastIndex = 0;
    while ((match = URL_RE.exec(line)) !== null) {
      var raw = match[0];
      var trail = raw.match(TRAILING);
      if (trail) {
        var cut = trail[0];
        // garde une parenthèse fermante si l'adresse en ouvre une
        if (cut.charAt(0) === ")" && raw.indexOf("(") !== -1) cut = cut.slice(1);
        raw = raw.slice(0, raw.length - cut.length);
      }
      var href = raw ? safeHref(raw) : null;
      if (!href) continue;
      if (match.index > last) parent.appendChild(document.createTextNode(line.slice(last, match.index)));
      var a = document.createElement("a");
      a.href = href;
      a.target = "_blank";
      a.rel = "noopener noreferrer";
      a.textContent = raw;
      parent.appendChild(a);
      last = match.index + raw.length;
      URL_RE.lastIndex = last;
    }
    if (last < line.length) parent.appendChild(document.createTextNode(line.slice(last)));
  }

  /** Texte avec sauts de ligne et liens, construit uniquement avec des nœuds texte. */
  function appendRichText(parent, text) {
    var lines = String(text).replace(/\r\n?/g, "\n").split("\n");
    for (var i = 0; i < lines.length; i++) {
      if (i > 0) parent.appendChild(document.createElement("br"));
      appendLine(parent, lines[i]);
    }
  }

  function isValidColor(value) {
    if (!value || typeof value !== "string") return false;
    if (window.CSS && typeof window.CSS.supports === "function") return window.CSS.supports("color", value);
    return /^#[0-9a-f]{3,8}$/i.test(value);
  }

  function formatCount(n) {
    return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, "\u00a0");
  }

  // ------------------------------------------------------------ diagnostic

  var ANSWERS = {
    yes: { label: "oui", icon: "✓" },
    partly: { label: "en partie", icon: "◐" },
    no: { label: "non", icon: "✗" },
    unknown: { label: "à préciser", icon: "?" }
  };

  var CRITERIA = [
    ["autonomy", "Des intervenants autonomes"],
    ["pooled_efforts", "Des efforts mis en commun"],
    ["common_goal", "Un objectif commun, relié à un besoin clairement identifié"],
    ["own_missions", "Des missions propres à chaque partenaire"],
    ["shared_stakes", "Pour chacun un intérêt, une responsabilité, une motivation, voire des obligations"]
  ];

  var PILLARS = [
    ["shared_desire", "La même envie"],
    ["common_project", "Un projet commun"],
    ["balance", "Une relation équilibrée"],
    ["contract", "Le contrat"]
  ];

  var EXTRAS = [
    ["partner_choice", "Le choix du partenaire"],
    ["piloting", "Le pilotage dans la durée"]
  ];

  var RELATIONSHIPS = {
    partnership: "partenariat",
    client: "relation client",
    supplier: "relation fournisseur",
    unclear: "à préciser"
  };

  function normAnswer(a) {
    return Object.prototype.hasOwnProperty.call(ANSWERS, a) ? a : "unknown";
  }

  /** Aligne les éléments reçus sur la liste connue (ordre, libellés par défaut), en gardant les inconnus. */
  function alignItems(received, known) {
    var byKey = {};
    var list = Array.isArray(received) ? received : [];
    for (var i = 0; i < list.length; i++) {
      var item = list[i];
      if (item && typeof item === "object" && item.key !== undefined) byKey[String(item.key)] = item;
    }
    var out = [];
    var seen = {};
    for (var j = 0; j < known.length; j++) {
      var k = known[j][0];
      var got = byKey[k] || {};
      seen[k] = true;
      out.push({ key: k, label: got.label ? String(got.label) : known[j][1], answer: normAnswer(got.answer) });
    }
    for (var m = 0; m < list.length; m++) {
      var extra = list[m];
      if (extra && typeof extra === "object" && extra.key !== undefined && !seen[String(extra.key)]) {
        out.push({ key: String(extra.key), label: String(extra.label || extra.key), answer: normAnswer(extra.answer) });
      }
    }
    return out;
  }

  function wrapWords(text, maxChars) {
    var words = String(text).split(/\s+/);
    var lines = [];
    var current = "";
    for (var i = 0; i < words.length; i++) {
      var candidate = current ? current + " " + words[i] : words[i];
      if (candidate.length > maxChars && current) {
        lines.push(current);
        current = words[i];
      } else {
        current = candidate;
      }
    }
    if (current) lines.push(current);
    return lines.slice(0, 3);
  }

  function listLabels(items) {
    var labels = [];
    for (var i = 0; i < items.length; i++) labels.push(items[i].label + " (" + ANSWERS[items[i].answer].label + ")");
    return labels.join(", ");
  }

  /** La table aux quatre pieds : un pied par pilier, un pied manquant est dessiné en pointillés. */
  function renderTable(pillars, missingKeys, idBase) {
    var legs = pillars.slice(0, 4);
    var missing = [];
    var present = [];
    for (var i = 0; i < legs.length; i++) {
      legs[i].missing = legs[i].answer !== "yes" || missingKeys.indexOf(legs[i].key) !== -1;
      (legs[i].missing ? missing : present).push(legs[i]);
    }

    var titleId = idBase + "-t";
    var descId = idBase + "-d";
    var svg = svgEl("svg", {
      viewBox: "0 0 320 224",
      role: "img",
      "aria-labelledby": titleId + " " + descId,
      "class": "cp-table" + (missing.length ? " cp-table--unstable" : " cp-table--stable"),
      focusable: "false"
    });
    svg.setAttribute("data-missing-legs", String(missing.length));

    var title = svgEl("title", { id: titleId });
    title.textContent = missing.length
      ? "La table des quatre piliers\u00a0: il manque " + missing.length + " pied" + (missing.length > 1 ? "s" : "") + " sur 4"
      : "La table des quatre piliers\u00a0: les quatre pieds sont là";
    svg.appendChild(title);
    var desc = svgEl("desc", { id: descId });
    desc.textContent =
      (present.length ? "Pieds solides\u00a0: " + listLabels(present) + ". " : "Aucun pied solide. ") +
      (missing.length ? "Pieds manquants\u00a0: " + listLabels(missing) + "." : "Aucun pied manquant.");
    svg.appendChild(desc);

    var caption = svgEl("text", { x: 160, y: 20, "text-anchor": "middle", "class": "cp-table-caption" });
    caption.textContent = missing.length
      ? "Instable\u00a0: " + missing.length + " pied" + (missing.length > 1 ? "s" : "") + " sur 4 à consolider"
      : "Stable\u00a0: les quatre pieds tiennent";
    svg.appendChild(caption);

    // plateau (incliné si un pied manque)
    var top = svgEl("g", { "class": "cp-table-top" });
    var angle = 0;
    if (missing.length) {
      // le plateau penche du côté où il manque le plus de pieds
      var leftMissing = (legs[0] && legs[0].missing ? 1 : 0) + (legs[1] && legs[1].missing ? 1 : 0);
      var rightMissing = missing.length - leftMissing;
      angle = rightMissing >= leftMissing ? 4 : -4;
      top.setAttribute("transform", "rotate(" + angle + " 160 46)");
    }
    var slope = Math.tan((angle * Math.PI) / 180);
    top.appendChild(svgEl("rect", { x: 14, y: 38, width: 292, height: 16, rx: 4, "class": "cp-table-board" }));
    svg.appendChild(top);

    var centers = [50, 123, 197, 270];
    for (var l = 0; l < legs.length; l++) {
      var leg = legs[l];
      var g = svgEl("g", {
        "class": "cp-leg " + (leg.missing ? "cp-leg--missing" : "cp-leg--present") + " cp-leg--" + leg.answer,
        "data-pillar": leg.key,
        "data-answer": leg.answer,
        "data-present": leg.missing ? "false" : "true"
      });
      var x = centers[l] - 7;
      // le haut du pied suit le plateau (incliné ou non)
      var boardBottom = 54 + (centers[l] - 160) * slope;
      if (leg.missing) {
        g.appendChild(svgEl("rect", {
          x: x, y: (boardBottom + 6).toFixed(1), width: 14, height: (142 - boardBottom).toFixed(1), rx: 2,
          fill: "none", "stroke-dasharray": "5 4", "stroke-width": 2, "class": "cp-leg-shape"
        }));
        var mark = svgEl("text", { x: centers[l], y: 110, "text-anchor": "middle", "class": "cp-leg-mark" });
        mark.textContent = leg.answer === "partly" ? "~" : "?";
        g.appendChild(mark);
      } else {
        g.appendChild(svgEl("rect", {
          x: x, y: (boardBottom - 2).toFixed(1), width: 14, height: (150 - boardBottom).toFixed(1), rx: 2,
          "class": "cp-leg-shape"
        }));
      }
      var label = svgEl("text", { x: centers[l], y: 166, "text-anchor": "middle", "class": "cp-leg-label" });
      var lines = wrapWords(leg.label, 10);
      for (var t = 0; t < lines.length; t++) {
        var tspan = svgEl("tspan", { x: centers[l], dy: t === 0 ? 0 : 14 });
        tspan.textContent = lines[t];
        label.appendChild(tspan);
      }
      g.appendChild(label);
      var status = svgEl("text", {
        x: centers[l], y: 166 + lines.length * 14 + 4, "text-anchor": "middle", "class": "cp-leg-status"
      });
      status.textContent = ANSWERS[leg.answer].label;
      g.appendChild(status);
      svg.appendChild(g);
    }
    return svg;
  }

  function renderChecklist(items, className, ariaLabel) {
    var ul = el("ul", "cp-checklist " + className);
    ul.setAttribute("aria-label", ariaLabel);
    for (var i = 0; i < items.length; i++) {
      var it = items[i];
      var li = el("li", "cp-check cp-check--" + it.answer);
      li.setAttribute("data-key", it.key);
      li.setAttribute("data-answer", it.answer);
      var icon = el("span", "cp-check-icon", ANSWERS[it.answer].icon);
      icon.setAttribute("aria-hidden", "true");
      li.appendChild(icon);
      li.appendChild(el("span", "cp-check-label", it.label));
      li.appendChild(srOnly("\u00a0: "));
      li.appendChild(el("span", "cp-check-status", ANSWERS[it.answer].label));
      ul.appendChild(li);
    }
    return ul;
  }

  var diagCounter = 0;

  function renderDiagnostic(d) {
    diagCounter += 1;
    var idBase = "cp-diag-" + diagCounter + "-" + Math.floor(Math.random() * 1e6);
    var fig = el("figure", "cp-diag");
    fig.setAttribute("aria-labelledby", idBase + "-h");
    var verdictKey = String(d.verdict || "").replace(/[^a-z0-9_-]/gi, "").toLowerCase();
    if (verdictKey) fig.setAttribute("data-verdict", verdictKey);

    var head = el("figcaption", "cp-diag-head");
    var h = el("p", "cp-diag-title", "Votre diagnostic");
    h.id = idBase + "-h";
    head.appendChild(h);
    if (d.verdict_label) head.appendChild(el("p", "cp-diag-verdict", d.verdict_label));
    fig.appendChild(head);

    var score = Number(d.score);
    if (isFinite(score)) {
      score = Math.max(0, Math.min(100, Math.round(score)));
      var sc = el("div", "cp-diag-score");
      var p = el("p", "cp-diag-score-text");
      p.appendChild(document.createTextNode("Score\u00a0: "));
      p.appendChild(el("strong", "cp-diag-score-value", String(score)));
      p.appendChild(document.createTextNode("\u00a0/\u00a0100"));
      sc.appendChild(p);
      var bar = el("div", "cp-diag-bar");
      bar.setAttribute("aria-hidden", "true");
      var fill = el("div", "cp-diag-bar-fill");
      fill.style.setProperty("width", score + "%");
      bar.appendChild(fill);
      sc.appendChild(bar);
      fig.appendChild(sc);
    }
    if (d.relationship) {
      var rel = RELATIONSHIPS[d.relationship] || String(d.relationship);
      var rp = el("p", "cp-diag-rel");
      rp.appendChild(document.createTextNode("Type de relation\u00a0: "));
      rp.appendChild(el("strong", null, rel));
      fig.appendChild(rp);
    }

    var missingPillars = Array.isArray(d.missing_pillars) ? d.missing_pillars.map(String) : [];
    var pillars = alignItems(d.pillars, PILLARS);
    fig.appendChild(el("p", "cp-diag-sub", "Les quatre piliers, comme les pieds d’une table"));
    fig.appendChild(renderTable(pillars, missingPillars, idBase));

    fig.appendChild(el("p", "cp-diag-sub", "Les cinq points obligatoires"));
    fig.appendChild(renderChecklist(alignItems(d.criteria, CRITERIA), "cp-criteria", "Les cinq points obligatoires"));

    if (Array.isArray(d.extras) && d.extras.length) {
      fig.appendChild(el("p", "cp-diag-sub", "Au-delà des piliers"));
      fig.appendChild(renderChecklist(alignItems(d.extras, EXTRAS), "cp-extras", "Au-delà des piliers"));
    }
    return fig;
  }

  // ----------------------------------------------------------------- widget

  function Widget(cfg) {
    this.cfg = cfg;
    this.store = makeStore(cfg.storageKey);
    this.state = null; // chargé à la première ouverture (lecture seule avant)
    this.isOpen = false;
    this.busy = false;
    this.generation = 0;
    this.controller = null;
    this.build();
    var saved = this.store.load();
    // la discussion était ouverte avant le rechargement : on la rouvre, sans voler le focus
    if (saved && saved.open) this.open({ focus: false });
  }

  Widget.prototype.build = function () {
    var cfg = this.cfg;
    var self = this;

    if (cfg.cssUrl && !document.querySelector('link[data-coach-partenariat-css]')) {
      var link = document.createElement("link");
      link.rel = "stylesheet";
      link.href = cfg.cssUrl;
      link.setAttribute("data-coach-partenariat-css", "");
      document.head.appendChild(link);
    }

    var root = el("div", "cp-root cp-pos-" + cfg.position);
    root.id = "coach-partenariat";
    root.setAttribute("lang", "fr");
    if (isValidColor(cfg.primaryColor)) root.style.setProperty("--cp-primary", cfg.primaryColor);
    if (isValidColor(cfg.onPrimaryColor)) root.style.setProperty("--cp-on-primary", cfg.onPrimaryColor);
    if (isValidColor(cfg.accentColor)) root.style.setProperty("--cp-accent", cfg.accentColor);

    // lanceur
    var launcher = el("button", "cp-launcher");
    launcher.type = "button";
    launcher.setAttribute("aria-expanded", "false");
    launcher.setAttribute("aria-controls", "cp-panel");
    launcher.setAttribute("aria-haspopup", "dialog");
    launcher.appendChild(this.icon("chat", "cp-launcher-icon"));
    launcher.appendChild(this.icon("close", "cp-launcher-icon-close"));
    launcher.appendChild(el("span", "cp-launcher-label", cfg.launcherLabel));
    launcher.addEventListener("click", function () {
      if (self.isOpen) self.close();
      else self.open();
    });

    // panneau
    var panel = el("section", "cp-panel");
    panel.id = "cp-panel";
    panel.setAttribute("role", "dialog");
    panel.setAttribute("aria-modal", "false");
    panel.setAttribute("aria-labelledby", "cp-title");
    panel.setAttribute("aria-describedby", "cp-subtitle");
    panel.hidden = true;

    var header = el("div", "cp-header");
    var avatar = el("span", "cp-avatar", cfg.botName.charAt(0).toUpperCase());
    avatar.setAttribute("aria-hidden", "true");
    header.appendChild(avatar);
    var heading = el("div", "cp-heading");
    var h2 = el("h2", "cp-title", cfg.title);
    h2.id = "cp-title";
    heading.appendChild(h2);
    var sub = el("p", "cp-subtitle", cfg.subtitle);
    sub.id = "cp-subtitle";
    heading.appendChild(sub);
    header.appendChild(heading);

    var reset = el("button", "cp-reset");
    reset.type = "button";
    reset.title = "Nouvelle conversation (efface l’historique)";
    reset.appendChild(this.icon("reset", "cp-btn-icon"));
    reset.appendChild(el("span", "cp-reset-label", "Nouvelle conversation"));
    reset.addEventListener("click", function () {
      self.reset();
    });
    var toolbar = el("div", "cp-toolbar");
    toolbar.appendChild(reset);

    var closeBtn = el("button", "cp-icon-btn cp-close");
    closeBtn.type = "button";
    closeBtn.setAttribute("aria-label", "Fermer la discussion");
    closeBtn.title = "Fermer (Échap)";
    closeBtn.appendChild(this.icon("close", "cp-btn-icon"));
    closeBtn.addEventListener("click", function () {
      self.close();
    });
    header.appendChild(closeBtn);
    panel.appendChild(header);
    panel.appendChild(toolbar);

    var body = el("div", "cp-body");
    // zone défilante : atteignable au clavier pour faire défiler l'historique
    body.setAttribute("role", "region");
    body.setAttribute("aria-label", "Historique de la conversation");
    body.tabIndex = 0;
    body.appendChild(
      el(
        "p",
        "cp-notice",
        "Cette conversation est conservée dans votre navigateur pour la retrouver si vous rechargez la page. «\u202fNouvelle conversation\u202f» l’efface."
      )
    );
    var log = el("div", "cp-log");
    log.setAttribute("role", "log");
    log.setAttribute("aria-live", "polite");
    log.setAttribute("aria-relevant", "additions");
    log.setAttribute("aria-label", "Messages de la conversation");
    body.appendChild(log);

    var typing = el("div", "cp-typing");
    typing.setAttribute("role", "status");
    typing.hidden = true;
    var dots = el("span", "cp-dots");
    dots.setAttribute("aria-hidden", "true");
    dots.appendChild(el("span"));
    dots.appendChild(el("span"));
    dots.appendChild(el("span"));
    typing.appendChild(dots);
    typing.appendChild(srOnly(cfg.botName + " est en train d’écrire…"));
    body.appendChild(typing);
    panel.appendChild(body);

    var error = el("div", "cp-error");
    error.setAttribute("role", "alert");
    error.hidden = true;
    var errorText = el("p", "cp-error-text");
    error.appendChild(errorText);
    var retry = el("button", "cp-retry", "Réessayer");
    retry.type = "button";
    retry.addEventListener("click", function () {
      self.retry();
    });
    error.appendChild(retry);
    panel.appendChild(error);

    var form = el("form", "cp-form");
    form.setAttribute("novalidate", "");
    var label = el("label", "cp-sr", "Votre message à " + cfg.botName);
    label.htmlFor = "cp-input";
    form.appendChild(label);
    var row = el("div", "cp-input-row");
    var input = el("textarea", "cp-input");
    input.id = "cp-input";
    input.name = "message";
    input.rows = 1;
    input.maxLength = MAX_CHARS;
    input.placeholder = "Écrivez votre message…";
    input.setAttribute("aria-describedby", "cp-hint");
    input.setAttribute("autocomplete", "off");
    row.appendChild(input);
    var send = el("button", "cp-send");
    send.type = "submit";
    send.setAttribute("aria-label", "Envoyer");
    send.title = "Envoyer";
    send.appendChild(this.icon("send", "cp-btn-icon"));
    row.appendChild(send);
    form.appendChild(row);
    var hint = el("p", "cp-hint");
    hint.id = "cp-hint";
    hint.appendChild(el("span", "cp-hint-keys", "Maj + Entrée pour aller à la ligne"));
    var count = el("span", "cp-count");
    hint.appendChild(count);
    form.appendChild(hint);
    panel.appendChild(form);

    input.addEventListener("input", function () {
      self.updateCount();
      self.autoGrow();
    });
    input.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        self.submit();
      }
    });
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      self.submit();
    });

    root.addEventListener("keydown", function (e) {
      if ((e.key === "Escape" || e.key === "Esc") && self.isOpen) {
        e.preventDefault();
        e.stopPropagation();
        self.close();
      }
    });

    // tout élément de la page marqué data-coach-partenariat-open ouvre la discussion
    document.addEventListener("click", function (e) {
      var target = e.target && e.target.closest ? e.target.closest("[data-coach-partenariat-open]") : null;
      if (target) {
        e.preventDefault();
        self.open();
      }
    });

    root.appendChild(panel);
    root.appendChild(launcher);
    document.body.appendChild(root);

    this.root = root;
    this.launcher = launcher;
    this.panel = panel;
    this.body = body;
    this.log = log;
    this.typing = typing;
    this.error = error;
    this.errorText = errorText;
    this.retryBtn = retry;
    this.input = input;
    this.count = count;
    this.updateCount();
  };

  Widget.prototype.icon = function (name, className) {
    var paths = {
      chat: "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z",
      close: "M6 6l12 12M18 6L6 18",
      reset: "M4 12a8 8 0 1 0 2.3-5.6M4 4v4h4",
      send: "M3 20l18-8L3 4l2 8-2 8zM5 12h8"
    };
    var svg = svgEl("svg", {
      viewBox: "0 0 24 24",
      width: 20,
      height: 20,
      "aria-hidden": "true",
      focusable: "false",
      "class": className
    });
    var path = svgEl("path", {
      d: paths[name],
      fill: name === "chat" ? "currentColor" : "none",
      stroke: "currentColor",
      "stroke-width": name === "chat" ? 0 : 2,
      "stroke-linecap": "round",
      "stroke-linejoin": "round"
    });
    svg.appendChild(path);
    return svg;
  };

  // --- état et persistance

  Widget.prototype.freshState = function () {
    return { v: STATE_VERSION, senderId: randomId(), messages: [], queue: [], open: true };
  };

  Widget.prototype.persist = function () {
    if (!this.state) return;
    if (this.state.messages.length > MAX_HISTORY) {
      var drop = this.state.messages.length - MAX_HISTORY;
      this.state.messages = this.state.messages.slice(drop);
      for (var i = 0; i < this.state.queue.length; i++) {
        if (this.state.queue[i].entry >= 0) this.state.queue[i].entry -= drop;
      }
    }
    this.store.save(this.state);
  };

  // --- ouverture / fermeture

  Widget.prototype.open = function (opts) {
    var focus = !opts || opts.focus !== false;
    if (this.isOpen) {
      if (focus) this.input.focus();
      return;
    }
    var firstOpen = false;
    if (!this.state) {
      this.state = this.store.load();
      if (!this.state) {
        this.state = this.freshState();
        firstOpen = true;
      }
      this.renderHistory();
    }
    this.isOpen = true;
    this.state.open = true;
    this.persist();
    this.panel.hidden = false;
    this.root.classList.add("cp-is-open");
    this.launcher.setAttribute("aria-expanded", "true");
    if (focus) this.input.focus();
    this.scrollToBottom();
    if (firstOpen && this.cfg.greetPayload) {
      this.enqueue(this.cfg.greetPayload, null);
    } else if (this.state.queue.length && !this.busy) {
      this.showError("restored");
    }
  };

  Widget.prototype.close = function () {
    if (!this.isOpen) return;
    this.isOpen = false;
    if (this.state) {
      this.state.open = false;
      this.persist();
    }
    this.panel.hidden = true;
    this.root.classList.remove("cp-is-open");
    this.launcher.setAttribute("aria-expanded", "false");
    this.launcher.focus();
  };

  Widget.prototype.reset = function () {
    this.generation += 1;
    if (this.controller) {
      try {
        this.controller.abort();
      } catch (e) {
        /* rien */
      }
    }
    this.controller = null;
    this.busy = false;
    this.setTyping(false);
    this.hideError();
    this.state = this.freshState();
    this.state.open = this.isOpen;
    this.persist();
    while (this.log.firstChild) this.log.removeChild(this.log.firstChild);
    this.input.value = "";
    this.updateCount();
    this.autoGrow();
    this.input.focus();
    if (this.cfg.greetPayload) this.enqueue(this.cfg.greetPayload, null);
  };

  // --- saisie

  Widget.prototype.updateCount = function () {
    var n = this.input.value.length;
    this.count.textContent = formatCount(n) + "\u00a0/\u00a0" + formatCount(MAX_CHARS) + " caractères";
    this.count.classList.toggle("cp-count--near", n >= MAX_CHARS - 200);
  };

  Widget.prototype.autoGrow = function () {
    var input = this.input;
    input.style.setProperty("height", "auto");
    var h = Math.min(input.scrollHeight, 128);
    input.style.setProperty("height", h + "px");
  };

  Widget.prototype.submit = function () {
    var text = this.input.value.replace(/^\s+|\s+$/g, "");
    if (!text) {
      this.input.focus();
      return;
    }
    if (text.length > MAX_CHARS) text = text.slice(0, MAX_CHARS);
    this.input.value = "";
    this.updateCount();
    this.autoGrow();
    this.sendVisitor(text, text);
  };

  /** Le visiteur envoie `payload` ; sa bulle affiche `display`. */
  Widget.prototype.sendVisitor = function (payload, display) {
    if (!this.state) this.open();
    var entry = { role: "user", text: display, pending: true };
    this.state.messages.push(entry);
    var index = this.state.messages.length - 1;
    this.disableQuickReplies();
    this.appendEntry(entry, index, true);
    this.enqueue(payload, index);
    this.scrollToBottom();
  };

  Widget.prototype.enqueue = function (payload, entryIndex) {
    this.state.queue.push({ payload: payload, entry: entryIndex === null ? -1 : entryIndex });
    this.persist();
    if (!this.error.hidden) {
      // une erreur est affichée : le message attend le bouton « Réessayer »
      this.markPending(entryIndex === null ? -1 : entryIndex, "failed");
      this.showError(this.error.getAttribute("data-kind") || "network");
    } else if (!this.busy) {
      this.processQueue();
    }
  };

  Widget.prototype.retry = function () {
    this.hideError();
    this.input.focus();
    this.processQueue();
  };

  Widget.prototype.processQueue = function () {
    var self = this;
    if (this.busy || !this.state || !this.state.queue.length) return;
    var item = this.state.queue[0];
    var generation = this.generation;
    this.busy = true;
    this.setTyping(true);
    this.markPending(item.entry, "sending");

    var controller = typeof AbortController === "function" ? new AbortController() : null;
    this.controller = controller;
    var timedOut = false;
    var timer = setTimeout(function () {
      timedOut = true;
      if (controller) controller.abort();
    }, this.cfg.requestTimeoutMs);

    fetch(this.cfg.rasaUrl + "/webhooks/rest/webhook", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ sender: this.state.senderId, message: item.payload }),
      credentials: "omit",
      cache: "no-store",
      signal: controller ? controller.signal : undefined
    })
      .then(function (res) {
        if (!res.ok) {
          var err = new Error("HTTP " + res.status);
          // nginx, in front of Rasa in production, answers 429 (rate limit), 413 (body size)
          // and 502–504 (no replica answering) itself: each gets its own explanation.
          err.kind = res.status === 429 ? "busy"
            : res.status === 413 ? "tooLong"
            : res.status >= 502 && res.status <= 504 ? "unavailable"
            : "http";
          throw err;
        }
        return res.json().catch(function () {
          var err = new Error("réponse illisible");
          err.kind = "http";
          throw err;
        });
      })
      .then(function (data) {
        clearTimeout(timer);
        if (generation !== self.generation) return;
        if (!Array.isArray(data)) {
          var err = new Error("réponse inattendue");
          err.kind = "http";
          throw err;
        }
        self.busy = false;
        self.controller = null;
        self.setTyping(false);
        self.state.queue.shift();
        if (item.entry >= 0 && self.state.messages[item.entry]) {
          delete self.state.messages[item.entry].pending;
          self.markPending(item.entry, null);
        }
        self.receive(data);
        self.persist();
        self.processQueue();
      })
      .catch(function (err) {
        clearTimeout(timer);
        if (generation !== self.generation) return;
        self.busy = false;
        self.controller = null;
        self.setTyping(false);
        self.markPending(item.entry, "failed");
        self.showError(timedOut ? "timeout" : (err && err.kind) || "network");
      });
  };

  Widget.prototype.receive = function (data) {
    var entries = [];
    var forget = false;
    for (var i = 0; i < data.length; i++) {
      var m = data[i];
      if (!m || typeof m !== "object") continue;
      // Le visiteur a refusé le consentement (ou le formulaire a expiré) : ce qu'il a écrit
      // sans consentir est effacé côté serveur ; la copie locale l'est aussi.
      if (m.custom && m.custom.type === "forget") {
        forget = true;
        continue;
      }
      var entry = { role: "bot" };
      var has = false;
      if (typeof m.text === "string" && m.text) {
        entry.text = m.text;
        has = true;
      }
      var rawButtons = Array.isArray(m.buttons) && m.buttons.length ? m.buttons : m.quick_replies;
      if (Array.isArray(rawButtons) && rawButtons.length) {
        entry.buttons = [];
        for (var b = 0; b < rawButtons.length; b++) {
          var btn = rawButtons[b];
          if (btn && (btn.title || btn.payload)) {
            entry.buttons.push({
              title: String(btn.title || btn.payload),
              payload: String(btn.payload || btn.title)
            });
          }
        }
        has = has || entry.buttons.length > 0;
      }
      if (typeof m.image === "string" && safeHref(m.image)) {
        entry.image = m.image;
        has = true;
      }
      if (m.custom && typeof m.custom === "object") {
        if (m.custom.type === "diagnostic") {
          entry.custom = m.custom;
          has = true;
        } else if (typeof m.custom.text === "string" && !entry.text) {
          entry.text = m.custom.text;
          has = true;
        }
      }
      if (has) entries.push(entry);
    }
    // Rasa envoie le texte (avec ses boutons) puis, à part, le `custom` d'un même message :
    // les boutons sont montrés sous le diagnostic, à la fin.
    for (var k = 0; k + 1 < entries.length; k++) {
      var next = entries[k + 1];
      if (entries[k].buttons && next.custom && !next.text && !next.buttons) {
        next.buttons = entries[k].buttons;
        delete entries[k].buttons;
      }
    }
    if (forget) {
      this.state.messages = [];
      // messages tapés entre-temps : toujours envoyés, mais leur bulle n'est plus affichée
      for (var q = 0; q < this.state.queue.length; q++) this.state.queue[q].entry = -1;
      this.renderHistory();
    }
    var first = null;
    for (var n = 0; n < entries.length; n++) {
      this.state.messages.push(entries[n]);
      var node = this.appendEntry(entries[n], this.state.messages.length - 1, true);
      if (!first) first = node;
    }
    this.scrollToShow(first);
  };

  // --- rendu

  Widget.prototype.renderHistory = function () {
    while (this.log.firstChild) this.log.removeChild(this.log.firstChild);
    var lastUser = -1;
    var msgs = this.state.messages;
    for (var i = 0; i < msgs.length; i++) if (msgs[i].role === "user") lastUser = i;
    this.log.setAttribute("aria-busy", "true");
    for (var j = 0; j < msgs.length; j++) {
      this.appendEntry(msgs[j], j, j > lastUser);
      if (msgs[j].pending) this.markPending(j, "failed");
    }
    this.log.removeAttribute("aria-busy");
  };

  Widget.prototype.appendEntry = function (entry, index, buttonsActive) {
    var self = this;
    var isUser = entry.role === "user";
    var item = el("div", "cp-msg " + (isUser ? "cp-msg--user" : "cp-msg--bot"));
    item.setAttribute("data-index", String(index));

    if (entry.text) {
      var bubble = el("p", "cp-bubble");
      bubble.appendChild(srOnly((isUser ? "Vous" : this.cfg.botName) + "\u00a0: "));
      appendRichText(bubble, entry.text);
      item.appendChild(bubble);
      if (isUser) {
        var status = el("span", "cp-msg-status");
        status.hidden = true;
        item.appendChild(status);
      }
    }
    if (entry.image) {
      var img = document.createElement("img");
      img.className = "cp-image";
      img.alt = "Image envoyée par " + this.cfg.botName;
      img.loading = "lazy";
      img.src = safeHref(entry.image);
      item.appendChild(img);
    }
    if (entry.custom && entry.custom.type === "diagnostic") {
      try {
        item.appendChild(renderDiagnostic(entry.custom));
      } catch (e) {
        item.appendChild(el("p", "cp-bubble", "Le diagnostic n’a pas pu être affiché."));
      }
    }
    if (entry.buttons && entry.buttons.length) {
      var group = el("div", "cp-quick");
      group.setAttribute("role", "group");
      group.setAttribute("aria-label", "Réponses proposées");
      for (var i = 0; i < entry.buttons.length; i++) {
        (function (btn, btnIndex) {
          var b = el("button", "cp-quick-btn", btn.title);
          b.type = "button";
          if (entry.chosen === btnIndex) b.classList.add("cp-quick-btn--chosen");
          if (!buttonsActive) b.disabled = true;
          b.addEventListener("click", function () {
            if (b.disabled) return;
            entry.chosen = btnIndex;
            b.classList.add("cp-quick-btn--chosen");
            self.sendVisitor(btn.payload, btn.title);
            // le bouton devient inactif : le focus passe au champ de saisie
            // (sauf sur écran tactile, pour ne pas ouvrir le clavier virtuel)
            var coarse = window.matchMedia && window.matchMedia("(pointer: coarse)").matches;
            if (!coarse) self.input.focus();
          });
          group.appendChild(b);
        })(entry.buttons[i], i);
      }
      item.appendChild(group);
    }
    this.log.appendChild(item);
    return item;
  };

  Widget.prototype.disableQuickReplies = function () {
    var buttons = this.log.querySelectorAll(".cp-quick-btn");
    for (var i = 0; i < buttons.length; i++) buttons[i].disabled = true;
  };

  Widget.prototype.markPending = function (entryIndex, mode) {
    if (entryIndex < 0) return;
    var item = this.log.querySelector('.cp-msg[data-index="' + entryIndex + '"]');
    if (!item) return;
    var status = item.querySelector(".cp-msg-status");
    item.classList.toggle("cp-msg--failed", mode === "failed");
    if (!status) return;
    if (mode === "failed") {
      status.textContent = "Non envoyé";
      status.hidden = false;
    } else {
      status.textContent = "";
      status.hidden = true;
    }
  };

  Widget.prototype.setTyping = function (on) {
    this.typing.hidden = !on;
    this.root.classList.toggle("cp-is-busy", !!on);
    if (on) this.scrollToBottom();
  };

  Widget.prototype.showError = function (kind) {
    var messages = {
      network: "Impossible de joindre " + this.cfg.botName + " pour le moment. Vérifiez votre connexion, puis réessayez.",
      http: this.cfg.botName + " n’a pas pu répondre\u00a0: le serveur a rencontré un problème. Réessayez dans un instant.",
      timeout: this.cfg.botName + " met trop de temps à répondre. Réessayez dans un instant.",
      busy: "Vous écrivez plus vite que " + this.cfg.botName + " ne peut lire\u202f! Patientez quelques secondes, puis réessayez.",
      unavailable: this.cfg.botName + " est momentanément indisponible. Réessayez dans une minute.",
      tooLong: "Ce message est trop long pour être envoyé. Raccourcissez-le, puis renvoyez-le.",
      restored: "Votre dernier message n’a pas reçu de réponse."
    };
    var text = messages[kind] || messages.network;
    var hasVisitorMessage = false;
    for (var i = 0; i < this.state.queue.length; i++) if (this.state.queue[i].entry >= 0) hasVisitorMessage = true;
    if (hasVisitorMessage) text += " Votre message n’est pas perdu.";
    this.errorText.textContent = text;
    this.error.setAttribute("data-kind", kind);
    this.error.hidden = false;
    this.scrollToBottom(); // garder en vue le message « Non envoyé »
  };

  Widget.prototype.hideError = function () {
    this.error.hidden = true;
    this.errorText.textContent = "";
  };

  Widget.prototype.scrollToBottom = function () {
    this.body.scrollTop = this.body.scrollHeight;
  };

  /** Montre le début de la réponse si elle est plus haute que la zone visible. */
  Widget.prototype.scrollToShow = function (node) {
    if (!node) {
      this.scrollToBottom();
      return;
    }
    var bottom = this.body.scrollHeight;
    var top = node.offsetTop - 12;
    if (bottom - top > this.body.clientHeight) this.body.scrollTop = top;
    else this.scrollToBottom();
  };

  // ---------------------------------------------------------------- démarrage

  function start() {
    var cfg = readConfig();
    var widget = new Widget(cfg);
    window.CoachPartenariat.open = function () {
      widget.open();
    };
    window.CoachPartenariat.close = function () {
      widget.close();
    };
    window.CoachPartenariat.reset = function () {
      if (!widget.isOpen) widget.open();
      widget.reset();
    };
    window.CoachPartenariat.config = cfg;
  }

  window.CoachPartenariat = { version: VERSION };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
