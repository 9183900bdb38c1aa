import { Chart, Legend, LinearScale, LineController, LineElement, LogarithmicScale, PointElement, ScatterController, Title, Tooltip, type ChartConfiguration, type Plugin } from 'chart.js';
import type { BiplotData, CaPlotData, SuccessRateData } from './compare-charts.ts';

/**
 * Chart.js configurations of the Compare tab: the robust-PCA biplot, the C–A log–log plot and
 * the success-rate curve. Only the pieces used are registered (registration is idempotent, so
 * other panels registering their own controllers do not conflict). Animation is off: tests and
 * screenshots see the final frame at once.
 */
Chart.register(ScatterController, LineController, LineElement, PointElement, LinearScale, LogarithmicScale, Legend, Tooltip, Title);

export { Chart };

const SIZE = { responsive: true, maintainAspectRatio: true, aspectRatio: 1.05, animation: false as const };

/** Draws one arrow per element from the origin, labelled, over the score cloud (Chart.js has no arrow element). */
function arrowPlugin(arrows: BiplotData['arrows']): Plugin<'scatter'> {
  return {
    id: 'biplotArrows',
    afterDatasetsDraw(chart) {
      const { ctx, scales } = chart;
      const x0 = scales.x.getPixelForValue(0);
      const y0 = scales.y.getPixelForValue(0);
      ctx.save();
      ctx.strokeStyle = '#b91c1c';
      ctx.fillStyle = '#b91c1c';
      ctx.lineWidth = 1.5;
      ctx.font = '10px system-ui, sans-serif';
      for (const a of arrows) {
        const x1 = scales.x.getPixelForValue(a.x);
        const y1 = scales.y.getPixelForValue(a.y);
        const ang = Math.atan2(y1 - y0, x1 - x0);
        ctx.beginPath();
        ctx.moveTo(x0, y0);
        ctx.lineTo(x1, y1);
        ctx.stroke();
        ctx.beginPath();
        ctx.moveTo(x1, y1);
        ctx.lineTo(x1 - 7 * Math.cos(ang - 0.4), y1 - 7 * Math.sin(ang - 0.4));
        ctx.lineTo(x1 - 7 * Math.cos(ang + 0.4), y1 - 7 * Math.sin(ang + 0.4));
        ctx.closePath();
        ctx.fill();
        ctx.fillText(a.label, x1 + 3 * Math.cos(ang), y1 + 3 * Math.sin(ang) + (Math.sin(ang) > 0 ? 8 : -2));
      }
      ctx.restore();
    },
  };
}

export function biplotConfig(d: BiplotData, title: string): ChartConfiguration<'scatter'> {
  return {
    type: 'scatter',
    data: { datasets: [{ label: 'cells (sample)', data: d.points, pointRadius: 1.5, backgroundColor: 'rgba(127,159,191,0.55)', borderWidth: 0 }] },
    options: {
      ...SIZE,
      plugins: { title: { display: true, text: title }, legend: { display: false }, tooltip: { enabled: false } },
      scales: {
        x: { type: 'linear', min: -d.limit, max: d.limit, title: { display: true, text: d.xLabel } },
        y: { type: 'linear', min: -d.limit, max: d.limit, title: { display: true, text: d.yLabel } },
      },
    },
    plugins: [arrowPlugin(d.arrows)],
  };
}

export function caConfig(d: CaPlotData, areaUnit: string, band: string): ChartConfiguration<'scatter'> {
  const datasets: ChartConfiguration<'scatter'>['data']['datasets'] = [
    { label: 'A(≥ v)', data: d.points, pointRadius: 2, backgroundColor: '#1f2937', borderWidth: 0 },
    ...d.lines.map((l, i) => ({ label: `segment ${i + 1}`, data: l, showLine: true, pointRadius: 0, borderColor: '#2563eb', borderWidth: 1.5 })),
    ...d.breaks.map((b, i) => ({ label: `break ${i + 1}`, data: b.line, showLine: true, pointRadius: 0, borderColor: '#dc2626', borderWidth: 2, borderDash: [4, 3] })),
  ];
  return {
    type: 'scatter',
    data: { datasets },
    options: {
      ...SIZE,
      plugins: { title: { display: true, text: `C–A: ${band}` }, legend: { display: false }, tooltip: { enabled: false } },
      scales: {
        x: { type: 'logarithmic', min: d.xMin, max: d.xMax, title: { display: true, text: `value v (${band})` } },
        y: { type: 'logarithmic', min: d.yMin, max: d.yMax, title: { display: true, text: `area with value ≥ v (${areaUnit === 'km2' ? 'km²' : areaUnit})` } },
      },
    },
  };
}

export function successRateConfig(d: SuccessRateData, band: string): ChartConfiguration<'scatter'> {
  return {
    type: 'scatter',
    data: {
      datasets: [
        { label: 'success rate', data: d.curve, showLine: true, pointRadius: 0, borderColor: '#1f77b4', borderWidth: 2 },
        { label: 'chance', data: d.diagonal, showLine: true, pointRadius: 0, borderColor: '#9ca3af', borderWidth: 1, borderDash: [4, 3] },
        { label: 'P–A intersection', data: [d.intersection], pointRadius: 5, pointStyle: 'crossRot', borderColor: '#dc2626', borderWidth: 2, backgroundColor: '#dc2626' },
      ],
    },
    options: {
      ...SIZE,
      plugins: { title: { display: true, text: `Success rate: ${band} (AUC ${d.auc.toFixed(3)})` }, legend: { position: 'bottom', labels: { boxWidth: 10 } }, tooltip: { enabled: false } },
      scales: {
        x: { type: 'linear', min: 0, max: 1, title: { display: true, text: 'share of study area (score ≥ t)' } },
        y: { type: 'linear', min: 0, max: 1, title: { display: true, text: 'share of deposits' } },
      },
    },
  };
}
