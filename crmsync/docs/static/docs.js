// The docs pages' only script: filter the articles, mark the one the address points at, light
// up a lineage node's edges on hover, show the person look-up when served. No library, no network.
"use strict";

function markCurrent() {
  document.querySelectorAll("article.current").forEach((a) => a.classList.remove("current"));
  const id = decodeURIComponent(window.location.hash.slice(1));
  const target = id && document.getElementById(id);
  if (target && target.tagName === "ARTICLE") {
    target.hidden = false;
    target.classList.add("current");
  }
}

function filterArticles(text) {
  const wanted = text.trim().toLowerCase();
  document.querySelectorAll("article[data-name]").forEach((article) => {
    article.hidden = wanted !== "" && !article.dataset.name.toLowerCase().includes(wanted);
  });
}

function lightEdges(node, on) {
  const name = node.dataset.node;
  node.classList.toggle("lit", on);
  document.querySelectorAll("#lineage .edge").forEach((edge) => {
    if (edge.dataset.from === name || edge.dataset.to === name) edge.classList.toggle("lit", on);
  });
}

document.addEventListener("DOMContentLoaded", () => {
  const filter = document.getElementById("filter");
  if (filter) filter.addEventListener("input", () => filterArticles(filter.value));
  // People are looked up in the warehouse by `crmsync docs --serve`: no form on a page opened from disk.
  const person = document.getElementById("person");
  if (person && window.location.protocol.startsWith("http")) person.hidden = false;
  document.querySelectorAll("#lineage .node").forEach((node) => {
    node.addEventListener("mouseenter", () => lightEdges(node, true));
    node.addEventListener("mouseleave", () => lightEdges(node, false));
  });
  window.addEventListener("hashchange", markCurrent);
  markCurrent();
});
