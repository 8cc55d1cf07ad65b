// djx's script: draws the plots from data the server prepared, keeps the
// live experiment page current, and sorts and filters a report's table.
// The chart library (Apache ECharts) draws; nothing here computes results.
(function () {
  'use strict';
  const $ = (sel, root) => (root || document).querySelector(sel);
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));
  const COLORS = ['#4269d0', '#efb118', '#ff725c', '#6cc5b0', '#3ca951', '#ff8ab7',
    '#a463f2', '#97bbf5', '#9c6b4e', '#9498a0'];

  // Charts still drawing; the page is ready when none are and every
  // section has started. Tests and the benchmark wait for `data-ready`.
  let drawing = 0;
  let starting = 0;
  function settle() {
    if (drawing === 0 && starting === 0 && !document.documentElement.dataset.ready) {
      window.djxReadyAt = performance.now();
      document.documentElement.dataset.ready = 'true';
    }
  }
  const charts = [];
  function chartIn(el) {
    let c = echarts.getInstanceByDom(el);
    if (!c) {
      c = echarts.init(el, null, { renderer: 'canvas' });
      charts.push(c);
    }
    return c;
  }
  function draw(el, option) {
    const c = chartIn(el);
    drawing++;
    let done = false;
    const finish = () => {
      if (!done) { done = true; drawing--; c.off('finished', finish); settle(); }
    };
    c.on('finished', finish);
    c.setOption(Object.assign({ animation: false }, option), true);
    return c;
  }
  window.addEventListener('resize', () => charts.forEach((c) => c.resize()));

  const text = (v) => (v === null || v === undefined) ? '' :
    (typeof v === 'object' ? JSON.stringify(v) : String(v));
  const num = (v) => (typeof v === 'number' && isFinite(v)) ? +v.toPrecision(6) : v;
  const tail = (path) => path.replace(/^(labels|parameter)\./, '');
  // ECharts puts a tooltip formatter's string into the page as HTML; titles,
  // legends and axis names it draws on the canvas, as text. Everything a
  // tooltip shows (names, values, metric names: the user's and the job's
  // text) goes through this.
  const esc = (v) => String(v).replace(/[&<>"']/g, (c) =>
    ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

  async function getJSON(url) {
    const r = await fetch(url, { headers: { accept: 'application/json' } });
    const body = await r.json().catch(() => ({ error: r.statusText }));
    if (!r.ok) throw new Error(body.error || r.statusText);
    return body;
  }
  function notice(section, message) {
    let n = $('.notice', section);
    if (!n) {
      n = document.createElement('p');
      n.className = 'notice';
      section.prepend(n);
    }
    n.textContent = message || '';
    n.hidden = !message;
  }

  // ---- plots: a metric against each grid dimension, parallel coordinates
  function yValues(state) {
    const p = state.plot;
    if (p.ys && p.ys[state.metric]) return p.ys[state.metric][state.agg];
    if (p.metric === state.metric && p.agg === state.agg) return p.y;
    return null;
  }

  function drawDims(section, state, y) {
    const p = state.plot;
    const box = $('.dims:not(.grouped)', section);
    if (!box) return;
    p.dims.forEach((dim, d) => {
      let el = box.children[d];
      if (!el) {
        el = document.createElement('div');
        el.className = 'chart dim';
        box.appendChild(el);
      }
      const coded = !dim.numeric || dim.values.length <= 30;
      // Colour by the first other dimension with few values.
      const c = p.dims.findIndex((o, i) => i !== d && o.values.length <= 10);
      const groups = c < 0 ? [null] : p.dims[c].values;
      const series = [];
      groups.forEach((g, gi) => {
        const pts = [];
        const sums = new Map();
        p.jobs.forEach((job, j) => {
          const v = y[j];
          if (v === null || v === undefined) return;
          if (c >= 0 && p.codes[c][j] !== gi) return;
          const code = p.codes[d][j];
          // A small, fixed spread keeps equal points apart.
          const jitter = coded ? ((j * 0.618034) % 1 - 0.5) * 0.3 : 0;
          const x = coded ? code + jitter : dim.values[code];
          pts.push([x, v, job]);
          const s = sums.get(code) || [0, 0];
          sums.set(code, [s[0] + v, s[1] + 1]);
        });
        const color = COLORS[gi % COLORS.length];
        const name = c < 0 ? state.metric : tail(p.dims[c].name) + '=' + text(g);
        // Large mode draws points in one pass; chunks of 20,000 per frame
        // (ECharts' default is 400) keep 10,000 jobs to a single frame.
        series.push({ type: 'scatter', name, data: pts, symbolSize: pts.length > 2000 ? 3 : 7,
          large: pts.length > 2000, progressive: 20000, progressiveThreshold: 20000,
          itemStyle: { color, opacity: 0.75 } });
        const means = Array.from(sums.entries()).sort((a, b) => a[0] - b[0])
          .map(([code, s]) => [coded ? code : dim.values[code], s[0] / s[1]]);
        if (means.length > 1 && means.length <= 200) {
          series.push({ type: 'line', name, data: means, symbol: 'none', silent: true,
            lineStyle: { color, width: 2 }, tooltip: { show: false } });
        }
      });
      const ticks = dim.values.map((_, i) => i);
      const axis = coded
        ? { type: 'value', min: -0.5, max: dim.values.length - 0.5, splitLine: { show: false },
            axisTick: { customValues: ticks },
            axisLabel: { customValues: ticks, hideOverlap: true,
              formatter: (v) => text(dim.values[Math.round(v)]) } }
        : { type: 'value', scale: true };
      const agg = state.agg === 'last' ? '' : ' (' + state.agg + ')';
      draw(el, {
        // The title, then the legend on its own line below it (with four
        // or more series the two overlapped when they shared one).
        title: { text: state.metric + agg + ' by ' + tail(dim.name), left: 'center', top: 4,
          textStyle: { fontSize: 13 } },
        grid: { left: 60, right: 20, top: c < 0 ? 40 : 66, bottom: 44 },
        legend: c < 0 ? undefined : { top: 28, type: 'scroll', textStyle: { fontSize: 11 } },
        tooltip: { trigger: 'item', formatter: (it) => 'job ' + esc(it.data[2]) + '<br>' +
          esc(tail(dim.name)) + ' = ' +
          esc(text(dim.values[p.codes[d][p.jobs.indexOf(it.data[2])]])) +
          '<br>' + esc(state.metric) + ' = ' + esc(num(it.data[1])) },
        xAxis: Object.assign({ name: tail(dim.name), nameLocation: 'middle', nameGap: 26 }, axis),
        yAxis: { type: 'value', scale: true, axisLine: { onZero: false } },
        series,
      });
    });
  }

  // ---- grouped: one mean per group along each grouped dimension, with
  // error bars (the spread over the jobs each group aggregates)
  function errorBars(color) {
    return (params, api) => {
      const lo = api.coord([api.value(0), api.value(1)]);
      const hi = api.coord([api.value(0), api.value(2)]);
      const w = 5;
      const style = { stroke: color, lineWidth: 1.5 };
      return { type: 'group', children: [
        { type: 'line', shape: { x1: lo[0], y1: lo[1], x2: hi[0], y2: hi[1] }, style },
        { type: 'line', shape: { x1: lo[0] - w, y1: lo[1], x2: lo[0] + w, y2: lo[1] }, style },
        { type: 'line', shape: { x1: hi[0] - w, y1: hi[1], x2: hi[0] + w, y2: hi[1] }, style },
      ] };
    };
  }

  // The error bar of a group's statistics: mean ± std, mean ± s.e., or
  // min to max; none where it is undefined (one job).
  function band(s, spread) {
    if (spread === 'minmax') return [s.min, s.max];
    const d = spread === 'sem' ? s.sem : s.std;
    return d === null || d === undefined ? null : [s.mean - d, s.mean + d];
  }

  function drawGroups(box, state) {
    const g = state.groups;
    if (!box || !g) return;
    while (box.children.length > g.dims.length) box.lastChild.remove();
    const spread = state.spread;
    const spreadName = { std: '± std', sem: '± s.e.', minmax: 'min–max' }[spread] || spread;
    g.dims.forEach((dim, d) => {
      let el = box.children[d];
      if (!el) {
        el = document.createElement('div');
        el.className = 'chart dim';
        box.appendChild(el);
      }
      // One series per combination of the other grouped dimensions.
      const bySeries = new Map();
      g.groups.forEach((grp) => {
        const s = grp.metrics[state.metric];
        if (!s) return;
        const other = g.dims.map((o, i) => i === d ? null : tail(o.name) + '=' + text(grp.key[o.name]))
          .filter((x) => x !== null).join(', ');
        if (!bySeries.has(other)) bySeries.set(other, []);
        bySeries.get(other).push([grp.codes[d], s, grp]);
      });
      const names = Array.from(bySeries.keys());
      const series = [];
      names.forEach((name, si) => {
        const color = COLORS[si % COLORS.length];
        const shift = names.length > 1 ? (si - (names.length - 1) / 2) * 0.6 / names.length : 0;
        const pts = bySeries.get(name).sort((a, b) => a[0] - b[0]);
        const label = name || state.metric;
        series.push({ type: 'line', name: label, data: pts.map(([c, s, grp]) => ({
          value: [c + shift, s.mean], group: grp, stats: s })),
          symbolSize: 7, itemStyle: { color }, lineStyle: { color, width: 2 } });
        series.push({ type: 'custom', name: label, renderItem: errorBars(color), z: 3,
          data: pts.map(([c, s]) => [c + shift, band(s, spread)]).filter(([, b]) => b)
            .map(([x, b]) => [x, b[0], b[1]]),
          encode: { x: 0, y: [1, 2] }, tooltip: { show: false }, silent: true });
      });
      const ticks = dim.values.map((_, i) => i);
      const agg = state.agg === 'last' ? '' : ' (' + state.agg + ')';
      draw(el, {
        title: { text: state.metric + agg + ' by ' + tail(dim.name) + ', mean ' + spreadName,
          left: 'center', top: 4, textStyle: { fontSize: 13 } },
        grid: { left: 60, right: 20, top: names.length > 1 ? 66 : 40, bottom: 44 },
        legend: names.length > 1 ? { top: 28, type: 'scroll', textStyle: { fontSize: 11 },
          data: names } : undefined,
        tooltip: { trigger: 'item', formatter: (it) => {
          const s = it.data.stats;
          if (!s) return '';
          const key = Object.entries(it.data.group.key).map(([k, v]) => esc(tail(k)) + ' = ' + esc(text(v))).join('<br>');
          return key + '<br>' + esc(state.metric) + ': mean ' + esc(num(s.mean)) +
            (s.std !== null ? ', std ' + esc(num(s.std)) : '') + '<br>n = ' + esc(s.n) +
            ', min ' + esc(num(s.min)) + ', max ' + esc(num(s.max));
        } },
        xAxis: { type: 'value', name: tail(dim.name), nameLocation: 'middle', nameGap: 26,
          min: -0.5, max: dim.values.length - 0.5, splitLine: { show: false },
          axisTick: { customValues: ticks },
          axisLabel: { customValues: ticks, hideOverlap: true, formatter: (v) => text(dim.values[Math.round(v)]) } },
        yAxis: { type: 'value', scale: true, axisLine: { onZero: false } },
        series,
      });
    });
  }

  function drawParallel(section, state, y) {
    const p = state.plot;
    const el = $('.chart.parallel', section);
    if (!el) return;
    const axes = p.dims.map((dim, d) => (!dim.numeric || dim.values.length <= 30)
      ? { dim: d, name: tail(dim.name), type: 'category', data: dim.values.map(text) }
      : { dim: d, name: tail(dim.name), type: 'value', scale: true });
    axes.push({ dim: p.dims.length, name: state.metric, type: 'value', scale: true });
    const rows = [];
    let lo = Infinity;
    let hi = -Infinity;
    p.jobs.forEach((job, j) => {
      const v = y[j];
      if (v === null || v === undefined) return;
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
      rows.push(p.dims.map((dim, d) => {
        const value = dim.values[p.codes[d][j]];
        return axes[d].type === 'category' ? text(value) : value;
      }).concat([v]));
    });
    draw(el, {
      parallelAxis: axes,
      parallel: { left: 60, right: 90, top: 40, bottom: 30 },
      visualMap: rows.length ? { type: 'continuous', min: lo, max: hi === lo ? lo + 1 : hi,
        dimension: p.dims.length, right: 0, top: 'middle', itemHeight: 120, calculable: false,
        inRange: { color: ['#ff725c', '#efb118', '#3ca951'] } } : undefined,
      series: [{ type: 'parallel', data: rows, smooth: false,
        lineStyle: { width: 1, opacity: rows.length > 2000 ? 0.15 : 0.6 },
        // Up to 10,000 lines in one frame (frames of 2,000 made 10,000 jobs
        // take twice as long); more are drawn 10,000 a frame, so the page
        // never freezes.
        progressive: 10000, progressiveThreshold: 10000 }],
    });
  }

  async function drawPlots(section, state) {
    if (!state.plot || !state.metric) return;
    let y = yValues(state);
    if (!y) {
      const q = new URLSearchParams({ metric: state.metric, agg: state.agg });
      state.plot = await getJSON(state.data.api + '/plot?' + q);
      y = state.plot.y || [];
    }
    if (state.data.groups) {
      // A report: the grouped plots beside the plots of every job.
      state.groups = await groupsOf(state);
      drawGroups($('.dims.grouped', section), state);
      drawDims(section, state, y);
    } else if (state.group.length) {
      state.groups = await groupsOf(state);
      if (state.groups) drawGroups($('.dims', section), state);
    } else {
      const box = $('.dims', section);
      if (box && state.groupsDrawn) box.replaceChildren();
      drawDims(section, state, y);
    }
    state.groupsDrawn = state.group.length > 0;
    drawParallel(section, state, y);
  }

  // The table's filters (in the page's address) apply to the groups too.
  function withFilters(q, state) {
    const page = new URL(state.url || location.href, location.href);
    page.searchParams.getAll('filter').filter(Boolean).forEach((f) => q.append('filter', f));
  }

  // The grouping: asked of the server, or (in a report) the one it carries.
  async function groupsOf(state) {
    const have = state.data.groups;
    if (have) return have[state.agg] || null;
    const q = new URLSearchParams({ by: state.group.join(','), metric: state.metric,
      agg: state.agg, spread: state.spread });
    withFilters(q, state);
    return getJSON(state.data.api + '/groups?' + q);
  }

  // ---- curves: several jobs' metric by step, downsampled on the server
  async function curveOf(state, job, metric) {
    if (state.data.curves) {
      const byJob = state.data.curves[metric] || {};
      return byJob[job] || null;
    }
    const q = new URLSearchParams({ name: metric, points: '1000' });
    return getJSON('/api/jobs/' + job + '/metrics?' + q).catch(() => null);
  }

  async function drawCurves(section, state) {
    const el = $('.chart.curve', section);
    const select = $('select.curve-metric', section);
    if (!el || !select || !select.value || $('.curves', section)?.hidden) return;
    const metric = select.value;
    if (state.group && state.group.length && !state.data.curves) {
      await drawGroupCurves(el, state, metric);
      return;
    }
    const jobs = Array.from(state.selected);
    const curves = (await Promise.all(jobs.map((j) => curveOf(state, j, metric))))
      .filter((c) => c && c.points && c.points.length);
    const xName = (curves.find((c) => c.x) || {}).x || 'record';
    draw(el, {
      // ECharts' own axis tooltip escapes the series names ('job N') and
      // shows numbers; the metric name is drawn on the canvas.
      tooltip: { trigger: 'axis' },
      legend: { top: 0, type: 'scroll' },
      grid: { left: 60, right: 20, top: 36, bottom: 40 },
      xAxis: { type: 'value', name: xName, nameLocation: 'middle', nameGap: 26, scale: true },
      yAxis: { type: 'value', name: metric, scale: true },
      dataZoom: [{ type: 'inside' }],
      series: curves.map((c, i) => ({ type: 'line', name: 'job ' + c.job, data: c.points,
        showSymbol: false, lineStyle: { width: 1.5 }, color: COLORS[i % COLORS.length] })),
    });
  }

  // Grouped: one mean curve per group, with its band (the spread over
  // the group's jobs at each step), computed on the server.
  async function drawGroupCurves(el, state, metric) {
    const q = new URLSearchParams({ by: state.group.join(','), metric, spread: state.spread });
    withFilters(q, state);
    const g = await getJSON(state.data.api + '/groups/curves?' + q);
    const series = [];
    const names = [];
    g.groups.forEach((grp, i) => {
      if (!grp.points.length) return;
      const color = COLORS[i % COLORS.length];
      const name = Object.entries(grp.key).map(([k, v]) => tail(k) + '=' + text(v)).join(', ') +
        ' (' + grp.jobs.length + ' jobs)';
      names.push(name);
      const band = { type: 'line', name, stack: 'band' + i, symbol: 'none', silent: true,
        color, lineStyle: { opacity: 0 }, tooltip: { show: false } };
      series.push(Object.assign({}, band, { data: grp.points.map((p) => [p[0], p[2]]) }));
      series.push(Object.assign({}, band, { data: grp.points.map((p) => [p[0], p[3] - p[2]]),
        areaStyle: { color, opacity: 0.18 } }));
      series.push({ type: 'line', name, data: grp.points.map((p) => [p[0], p[1]]),
        showSymbol: false, lineStyle: { width: 2, color }, itemStyle: { color } });
    });
    const spreadName = { std: '± std', sem: '± s.e.', minmax: 'min–max' }[state.spread] || state.spread;
    draw(el, {
      tooltip: { trigger: 'axis' },
      legend: { top: 0, type: 'scroll', data: names },
      grid: { left: 60, right: 20, top: 36, bottom: 40 },
      xAxis: { type: 'value', name: g.x || 'record', nameLocation: 'middle', nameGap: 26, scale: true },
      yAxis: { type: 'value', name: metric + ', mean ' + spreadName, scale: true },
      dataZoom: [{ type: 'inside' }],
      series,
    });
  }

  // The jobs whose curves are drawn: ticked in the table (the first five
  // that have curves, until the reader ticks others).
  function syncTicks(section, state) {
    const boxes = $$('input.tick', section);
    if (state.data.curves) {
      const metric = ($('select.curve-metric', section) || {}).value;
      const have = state.data.curves[metric] || {};
      boxes.forEach((b) => { b.disabled = !have[b.dataset.job]; });
    }
    const curves = $('section.curves', section);
    if (!state.touched && curves && !curves.hidden) {
      state.selected = new Set(boxes.filter((b) => !b.disabled && b.dataset.finished !== undefined)
        .slice(0, 5).map((b) => b.dataset.job));
    }
    boxes.forEach((b) => { b.checked = state.selected.has(b.dataset.job); });
    syncCompare(section, state);
  }

  // The compare button: two to ten ticked jobs.
  function syncCompare(section, state) {
    const button = $('button.compare', section);
    if (!button) return;
    const n = state.selected.size;
    button.disabled = n < 2 || n > 10;
    button.textContent = 'compare ' + n + ' ticked job' + (n === 1 ? '' : 's');
  }

  function wireCurves(section, state) {
    section.addEventListener('change', (e) => {
      const t = e.target;
      if (t.matches && t.matches('input.tick')) {
        state.touched = true;
        if (t.checked) state.selected.add(t.dataset.job); else state.selected.delete(t.dataset.job);
        syncCompare(section, state);
        drawCurves(section, state);
        if (state.redrawGallery) state.redrawGallery();
      }
    });
    section.addEventListener('click', (e) => {
      const b = e.target.closest && e.target.closest('button.compare');
      if (!b || b.disabled) return;
      const ids = Array.from(state.selected).map(Number).sort((x, y) => x - y);
      location.href = '/compare?jobs=' + ids.join(',');
    });
    const select = $('select.curve-metric', section);
    if (select) {
      select.addEventListener('change', () => {
        if (state.data.curves) { state.selected.clear(); state.touched = false; }
        syncTicks(section, state);
        drawCurves(section, state);
      });
    }
  }

  // ---- the live table: sorted, filtered and paged by the server
  async function loadTable(section, state, url) {
    const path = new URL(url, location.href);
    const r = await fetch(state.data.table + path.search, { headers: { accept: 'text/html' } });
    if (!r.ok) {
      const doc = new DOMParser().parseFromString(await r.text(), 'text/html');
      throw new Error(($('.message', doc) || {}).textContent || r.statusText);
    }
    const doc = new DOMParser().parseFromString(await r.text(), 'text/html');
    $('section.jobs', section).replaceChildren(...$('.fragment-table', doc).childNodes);
    const counts = $('.fragment-counts', doc);
    $('.counts', section).replaceWith($('.counts', counts));
    $('.progress', section).replaceWith($('.progress', counts));
    state.url = path.pathname + path.search;
    if (location.pathname + location.search !== state.url) history.replaceState(null, '', state.url);
    syncTicks(section, state);
    // A new grouping (or error bar) redraws the plots.
    const group = path.searchParams.getAll('group').join(',').split(',').filter(Boolean);
    const spread = path.searchParams.get('spread') || 'std';
    const filters = path.searchParams.getAll('filter').join('\n');
    if (group.join(',') !== state.group.join(',') || spread !== state.spread ||
        (group.length && filters !== state.filters)) {
      state.group = group;
      state.spread = spread;
      state.filters = filters;
      await drawPlots(section, state);
      await drawCurves(section, state);
    }
    window.djxRefreshes = (window.djxRefreshes || 0) + 1;
  }

  function wireTable(section, state) {
    section.addEventListener('click', (e) => {
      const a = e.target.closest && e.target.closest('a[data-nav]');
      if (!a || e.ctrlKey || e.metaKey || e.shiftKey) return;
      e.preventDefault();
      loadTable(section, state, a.href).catch((err) => notice(section, err.message));
    });
    section.addEventListener('submit', (e) => {
      const form = e.target.closest('form.filters');
      if (!form) return;
      e.preventDefault();
      const q = new URLSearchParams(new FormData(form));
      for (const [k, v] of Array.from(q.entries())) if (!v) q.delete(k, v);
      loadTable(section, state, form.getAttribute('action') + '?' + q)
        .then(() => notice(section, ''))
        .catch((err) => notice(section, err.message));
    });
  }

  // New metrics appear as jobs finish: offer them, and show the plots.
  function controls(section, state) {
    const fill = (select, names) => {
      if (!select) return;
      const have = Array.from(select.options).map((o) => o.value);
      if (have.join('\n') === names.join('\n')) return;
      const keep = select.value;
      select.replaceChildren(...names.map((n) => new Option(n, n)));
      if (names.includes(keep)) select.value = keep;
    };
    const metrics = state.plot.metrics || [];
    fill($('.plots select.metric', section), metrics.map((m) => m.name));
    const metric = $('.plots select.metric', section);
    if (metric && state.metric) metric.value = state.metric;
    const curves = metrics.filter((m) => m.curve_jobs > 0).map((m) => m.name);
    fill($('select.curve-metric', section), curves);
    const plots = $('section.plots', section);
    if (plots && metrics.length) {
      plots.hidden = false;
      const empty = $('p.empty', section);
      if (empty) empty.hidden = true;
    }
    const curveBox = $('section.curves', section);
    if (curveBox && curves.length) curveBox.hidden = false;
  }

  // Live updates: the counts come by server-sent events; when a change
  // arrives, the table, plots and curves are read again. Without the
  // stream (it failed, or a proxy buffers it), the page polls.
  function live(section, state) {
    state.url = location.pathname + location.search;
    // The counts the page was drawn with: any change after is shown.
    let last = JSON.stringify(state.data.jobs);
    const changed = async (jobs) => {
      const counts = JSON.stringify(jobs);
      if (counts === last) return;
      await loadTable(section, state, state.url);
      const q = new URLSearchParams({ agg: state.agg });
      if (state.metric) q.set('metric', state.metric);
      state.plot = await getJSON(state.data.api + '/plot?' + q);
      state.metric = state.plot.metric;
      controls(section, state);
      // Curves may have just appeared: tick jobs to draw.
      syncTicks(section, state);
      await drawPlots(section, state);
      await drawCurves(section, state);
      last = counts;
    };
    const poll = async () => {
      let active = true;
      try {
        const info = await getJSON(state.data.api);
        active = info.jobs.unassigned + info.jobs.assigned > 0;
        await changed(info.jobs);
        notice(section, '');
      } catch (err) {
        notice(section, 'Not updating: ' + err.message);
      }
      setTimeout(poll, active ? 1000 : 5000);
    };
    if (!window.EventSource || state.data.events === false) {
      window.djxLive = 'poll';
      setTimeout(poll, 1000);
      return;
    }
    const events = new EventSource(state.data.api + '/events');
    window.djxLive = 'sse';
    let chain = Promise.resolve();
    events.addEventListener('counts', (e) => {
      const jobs = JSON.parse(e.data).jobs;
      chain = chain.then(() => changed(jobs))
        .then(() => notice(section, ''))
        .catch((err) => notice(section, 'Not updating: ' + err.message));
    });
    events.addEventListener('error', () => {
      events.close();
      window.djxLive = 'poll';
      setTimeout(poll, 1000);
    });
  }

  // ---- artifact previews: fragments made (and escaped) by the server,
  // put in place of their placeholders
  async function fillPreview(el) {
    if (el.dataset.filled) return;
    el.dataset.filled = 'true';
    try {
      const r = await fetch(el.dataset.src, { headers: { accept: 'text/html' } });
      const doc = new DOMParser().parseFromString(await r.text(), 'text/html');
      const body = $('.preview-body', doc);
      if (!body) throw new Error(($('.message', doc) || {}).textContent || r.statusText);
      el.replaceChildren(document.adoptNode(body));
      const img = $('img', el);
      if (img && !img.complete) await new Promise((done) => { img.onload = done; img.onerror = done; });
    } catch (err) {
      const p = document.createElement('p');
      p.className = 'hint';
      p.textContent = 'no preview: ' + err.message;
      el.append(p);
    }
  }
  const fillPreviews = (root) => Promise.all($$('div.preview[data-src]', root).map(fillPreview));

  const labelText = (labels) => Object.entries(labels || {})
    .map(([k, v]) => k + '=' + text(v)).join(' ');

  // The gallery: the artifact of one name across the jobs (or the ticked
  // ones), side by side with their labels.
  async function startGallery(section, state) {
    const box = $('section.gallery', section);
    if (!box) return;
    const info = await getJSON(state.data.api + '/artifacts');
    if (!info.names.length) return;
    box.hidden = false;
    const select = $('select.gallery-name', box);
    const ticked = $('input.gallery-ticked', box);
    select.replaceChildren(...info.names.map((n) => new Option(n.name + ' (' + n.jobs + ' jobs)', n.name)));
    const image = info.names.find((n) => /\.(png|jpe?g|gif|webp)$/i.test(n.name)) ||
      info.names.find((n) => /\.svg$/i.test(n.name));
    if (image) select.value = image.name;
    const draw = async () => {
      const q = new URLSearchParams({ name: select.value });
      if (ticked.checked) q.set('jobs', Array.from(state.selected).join(','));
      const list = await getJSON(state.data.api + '/artifacts?' + q);
      const items = $('.gallery-items', box);
      items.replaceChildren(...list.artifacts.map((a) => {
        const card = document.createElement('figure');
        card.className = 'card';
        card.dataset.job = a.job;
        const caption = document.createElement('figcaption');
        const link = document.createElement('a');
        link.href = '/jobs/' + a.job;
        link.textContent = 'job ' + a.job;
        caption.append(link, ' ' + labelText(a.labels));
        const preview = document.createElement('div');
        preview.className = 'preview';
        preview.dataset.src = '/artifacts/' + a.digest + '/preview';
        card.append(caption, preview);
        return card;
      }));
      await fillPreviews(items);
    };
    const redraw = () => draw().catch((err) => notice(section, err.message));
    select.addEventListener('change', redraw);
    ticked.addEventListener('change', redraw);
    state.redrawGallery = () => { if (ticked.checked) redraw(); };
    await draw();
  }

  // ---- a report's table: sorted and filtered here, every row present
  function reportTable(section) {
    const table = $('table.jobs', section);
    if (!table) return;
    const body = table.tBodies[0];
    const rows = Array.from(body.rows);
    const shown = $('.shown', section);
    const count = () => {
      const n = rows.filter((r) => !r.hidden).length;
      if (shown) shown.textContent = ' ' + n + ' of ' + rows.length + ' jobs';
    };
    count();
    $$('th[data-col]', table).forEach((th) => {
      th.classList.add('sortable');
      th.addEventListener('click', () => {
        const col = th.cellIndex;
        const desc = th.dataset.dir === 'asc';
        $$('th', table).forEach((h) => delete h.dataset.dir);
        th.dataset.dir = desc ? 'desc' : 'asc';
        const key = (r) => {
          const cell = r.cells[col];
          const v = cell.dataset.v;
          if (v !== undefined && v !== '' && !isNaN(+v)) return [0, +v, ''];
          const t = cell.textContent.trim();
          return t === '' ? [2, 0, ''] : [1, 0, t];
        };
        const sorted = rows.slice().sort((a, b) => {
          const x = key(a);
          const y = key(b);
          if (x[0] !== y[0]) return x[0] === 2 ? 1 : y[0] === 2 ? -1 : x[0] - y[0];
          const o = x[0] === 0 ? x[1] - y[1] : x[2].localeCompare(y[2]);
          return desc ? -o : o;
        });
        body.replaceChildren(...sorted);
      });
    });
    const input = $('input.report-filter', section);
    if (input) {
      input.addEventListener('input', () => {
        const words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
        rows.forEach((r) => {
          const t = r.textContent.toLowerCase();
          r.hidden = !words.every((w) => t.includes(w));
        });
        count();
      });
    }
  }

  function startExperiment(section) {
    const data = JSON.parse($('script.djx-data', section).textContent);
    const state = { data, plot: data.plot, metric: data.plot && data.plot.metric,
      agg: (data.plot && data.plot.agg) || 'last', selected: new Set(), touched: false,
      group: data.group || [], spread: data.spread || 'std' };
    const metric = $('.plots select.metric', section);
    if (metric) metric.addEventListener('change', () => { state.metric = metric.value; drawPlots(section, state); });
    section.addEventListener('change', (e) => {
      const t = e.target;
      if (data.mode !== 'live' || !t.matches || !t.matches('input[name=group], select.spread')) return;
      const form = t.closest('form.filters');
      const u = new URL(state.url || location.href, location.href);
      const group = $$('input[name=group]:checked', form).map((i) => i.value);
      u.searchParams.delete('group');
      if (group.length) u.searchParams.set('group', group.join(','));
      const spread = $('select.spread', form).value;
      if (spread === 'std') u.searchParams.delete('spread'); else u.searchParams.set('spread', spread);
      u.searchParams.delete('offset');
      loadTable(section, state, u.href).catch((err) => notice(section, err.message));
    });
    const spreadSelect = $('section.grouped select.spread', section);
    if (spreadSelect) {
      spreadSelect.addEventListener('change', () => {
        state.spread = spreadSelect.value;
        drawPlots(section, state);
      });
    }
    section.addEventListener('change', (e) => {
      if (!e.target.matches || !e.target.matches('select.agg')) return;
      state.agg = e.target.value;
      $$('select.agg', section).forEach((s) => { s.value = state.agg; });
      drawPlots(section, state);
      if (data.mode === 'live') {
        const u = new URL(state.url || location.href, location.href);
        u.searchParams.set('agg', state.agg);
        u.searchParams.delete('offset');
        loadTable(section, state, u.href).catch((err) => notice(section, err.message));
      }
    });
    wireCurves(section, state);
    syncTicks(section, state);
    const work = [drawPlots(section, state), drawCurves(section, state)];
    if (data.mode === 'live') {
      wireTable(section, state);
      live(section, state);
      if (data.gallery !== false) work.push(startGallery(section, state));
    } else {
      reportTable(section);
    }
    return Promise.all(work);
  }

  function startJob(section) {
    const data = JSON.parse($('script.djx-data', section).textContent);
    const select = $('select.curve-metric', section);
    const state = { data, selected: new Set([String(data.job)]), touched: true };
    if (select) select.addEventListener('change', () => drawCurves(section, state));
    return Promise.all([drawCurves(section, state), fillPreviews(section)]);
  }

  // The compare page: every compared job's curves overlaid, and the
  // artifacts previewed.
  function startCompare(section) {
    const data = JSON.parse($('script.djx-data', section).textContent);
    const select = $('select.curve-metric', section);
    const state = { data, selected: new Set(data.jobs.map(String)), touched: true };
    if (select) select.addEventListener('change', () => drawCurves(section, state));
    return Promise.all([drawCurves(section, state), fillPreviews(section)]);
  }

  function start() {
    const sections = $$('section.experiment').map((s) => [s, startExperiment])
      .concat($$('section.job').map((s) => [s, startJob]))
      .concat($$('section.compare').map((s) => [s, startCompare]));
    starting = sections.length;
    sections.forEach(([s, f]) => {
      Promise.resolve().then(() => f(s))
        .catch((err) => notice(s, err.message))
        .finally(() => { starting--; settle(); });
    });
    settle();
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
