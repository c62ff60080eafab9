// The status page's in-place update: poll /page.json every interval and rebuild the parts
// that changed, with the same elements, classes and data-tone attributes the server's HTML
// has (web/page.py). Texts are set as text, never as HTML.
"use strict";
(function () {
  const body = document.body;
  const interval = Math.max(1, parseFloat(body.dataset.interval) || 30) * 1000;

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, value);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function tone(node, value) {
    node.className = node.className.replace(/\b(good|warn|bad|plain|none)\b/g, "").trim();
    node.classList.add(value);
    node.dataset.tone = value;
  }

  function fillTable(id, table) {
    const head = document.querySelector("#" + id + " thead tr");
    head.replaceChildren(...table.headers.map((h) => el("th", {}, h)));
    const rows = table.rows.map((row) => {
      const tr = el("tr", { "data-key": row.key });
      for (const cell of row.cells) {
        tr.append(el("td", { class: cell.tone, "data-tone": cell.tone }, cell.text));
      }
      return tr;
    });
    document.querySelector("#" + id + " tbody").replaceChildren(...rows);
  }

  function problems(groups) {
    const box = document.getElementById("problems");
    if (!groups.length) {
      box.replaceChildren(el("p", { class: "good", "data-tone": "good" }, "no problems"));
      return;
    }
    box.replaceChildren(...groups.map((g) => {
      const div = el("div", { class: "group " + g.tone, "data-code": g.code, "data-tone": g.tone });
      div.append(el("h3", {}, g.severity + " " + g.code + " (" + g.items.length + ")"));
      const list = el("ul");
      for (const item of g.items) {
        const li = el("li", { "data-node": item.node });
        li.append(el("b", {}, item.node), ": " + item.detail);
        if (item.fix) li.append(el("br"), el("span", { class: "fix" }, "fix: " + item.fix));
        list.append(li);
      }
      div.append(list, el("p", { class: "fix" }, "fix: " + g.fix));
      return div;
    }));
  }

  function history(rows) {
    document.getElementById("history").replaceChildren(...rows.map((row) => {
      const div = el("div", { class: "hist", "data-key": row.node });
      const blocks = el("span", { class: "blocks" });
      for (const b of row.blocks) {
        blocks.append(el("i", { class: "b " + b.tone + " l" + b.level, title: b.title }));
      }
      div.append(el("span", { class: "name" }, row.node), blocks,
                 el("span", { class: "sum" }, row.summary));
      return div;
    }));
  }

  function render(page) {
    const banner = document.getElementById("verdict");
    banner.classList.add("banner");
    tone(banner, page.verdict.tone);
    document.getElementById("verdict-text").textContent = page.verdict.text;
    document.getElementById("taken").textContent = page.taken;
    document.title = "gluu-cluster " + page.cluster;
    fillTable("nodes", page.nodes);
    fillTable("services", page.services);
    document.getElementById("services-section").hidden = page.services.rows.length === 0;
    problems(page.problems);
    history(page.history);
  }

  async function poll() {
    const live = document.getElementById("live");
    try {
      const response = await fetch("/page.json", { cache: "no-store" });
      if (!response.ok) throw new Error("HTTP " + response.status);
      render(await response.json());
      body.dataset.updates = String(Number(body.dataset.updates || 0) + 1);
      live.textContent = "";
      tone(live, "plain");
    } catch (error) {
      live.textContent = "serve does not answer (" + error.message + "): this is the last state read";
      tone(live, "warn");
    } finally {
      setTimeout(poll, interval);
    }
  }

  setTimeout(poll, interval);
})();
