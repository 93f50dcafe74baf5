/* The dashboard's charts: Apache ECharts (vendored, static/vendor/echarts) draws each
   ".dash-chart" from the JSON spec in its data-chart attribute, in the page's
   language; a click on a bar opens the ledger list the bar counts.  Tooltips are
   drawn on the canvas (richText): HTML tooltips would need inline styles, which
   the CSP refuses.  Every chart has a table of the same numbers, so the page
   works without this. */
(function () {
  "use strict";
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
  if (!window.echarts) { return; }
  var locale = (document.documentElement.lang || "").indexOf("en") === 0 ? "EN" : "ZH";
  var charts = [];

  function valueAxis(name, percent) {
    return {type: "value", name: name || "", minInterval: percent ? 0 : 1,
            max: percent ? 100 : null,
            axisLabel: {formatter: percent ? "{value}%" : "{value}"}};
  }

  function categoryAxis(categories, narrow) {
    var rotate = categories.length > (narrow ? 3 : 6) ? 35 : 0;
    return {type: "category", data: categories,
            axisLabel: {interval: 0, rotate: rotate, width: 90, overflow: "truncate"}};
  }

  function option(spec, narrow) {
    var kind = spec.kind;
    var several = spec.series.length > 1;
    var opt = {
      animation: false,
      tooltip: {trigger: kind === "hbar" ? "item" : "axis", renderMode: "richText",
                confine: true},
      legend: several ? {top: 0, type: "scroll"} : {show: false},
      grid: {left: 8, right: 16, top: several ? 40 : 24, bottom: 8, containLabel: true},
      series: []
    };
    if (kind === "hbar") {
      opt.xAxis = valueAxis(spec.axis, false);
      opt.yAxis = {type: "category", data: spec.categories,
                   axisLabel: {width: narrow ? 90 : 160, overflow: "truncate"}};
    } else {
      opt.xAxis = categoryAxis(spec.categories, narrow);
      opt.yAxis = kind === "trend" ? [valueAxis(spec.axis, false), valueAxis(spec.axis2, true)]
                                   : valueAxis(spec.axis, !!spec.percent);
    }
    spec.series.forEach(function (s) {
      var line = kind === "line" || s.line;
      opt.series.push({
        name: s.name, type: line ? "line" : "bar", data: s.data,
        yAxisIndex: kind === "trend" && s.line ? 1 : 0,
        stack: kind === "stack" ? "total" : undefined,
        connectNulls: true, barMaxWidth: 36,
        cursor: s.links && s.links.length ? "pointer" : "default",
        label: {show: kind === "hbar", position: "right"}
      });
    });
    return opt;
  }

  document.querySelectorAll(".dash-chart[data-chart]").forEach(function (el) {
    var spec = JSON.parse(el.getAttribute("data-chart"));
    var chart = window.echarts.init(el, null, {locale: locale, renderer: "canvas"});
    var narrow = function () { return el.clientWidth < 500; };
    chart.on("finished", function () { el.setAttribute("data-rendered", "1"); });
    chart.setOption(option(spec, narrow()));
    chart.on("click", function (p) {
      var s = spec.series[p.seriesIndex];
      var href = s && s.links && s.links[p.dataIndex];
      if (href) { window.location.assign(href); }
    });
    charts.push({chart: chart, spec: spec, narrow: narrow});
  });

  function resize() {
    charts.forEach(function (c) {
      c.chart.setOption(option(c.spec, c.narrow()), {replaceMerge: ["series"]});
      c.chart.resize();
    });
  }
  var pending = null;
  window.addEventListener("resize", function () {
    if (pending) { window.clearTimeout(pending); }
    pending = window.setTimeout(resize, 100);
  });
  window.addEventListener("beforeprint", resize);
  window.addEventListener("afterprint", resize);
}());
