import {
  CategoryScale,
  Chart,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  RadarController,
  RadialLinearScale,
  ScatterController,
  Title,
  Tooltip,
  type ChartConfiguration,
} from 'chart.js';
import { BoxAndWiskers, BoxPlotController } from '@sgratzl/chartjs-chart-boxplot';
import { SERIES_COLORS, type BoxStats, type RocLine, type Series } from './chart-data.ts';

/**
 * Chart.js set-up for the result charts. Only the controllers used are registered (tree-shaken
 * bundle). Chart.js draws on a canvas with no eval and no remote content, so it runs under the
 * renderer's CSP (script-src 'self'); the browser tests check that the charts render.
 */
Chart.register(
  RadarController,
  RadialLinearScale,
  ScatterController,
  LineController,
  LineElement,
  PointElement,
  LinearScale,
  CategoryScale,
  Filler,
  Legend,
  Tooltip,
  Title,
  BoxPlotController,
  BoxAndWiskers,
);
// Screenshots and tests see the final frame at once.
Chart.defaults.animation = false;
Chart.defaults.font.size = 10;

export { Chart };
export type AnyChartConfig = ChartConfiguration<'radar' | 'scatter' | 'boxplot'>;

const alpha = (hex: string, a: number): string => {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${a})`;
};

/** Radar of metric means: one polygon per model on a 0…1 scale (κ and MCC can be negative: the axis then starts below 0). */
export function radarConfig(labels: readonly string[], series: readonly Series<number[]>[], title: string): ChartConfiguration<'radar'> {
  const min = Math.min(0, ...series.flatMap((s) => s.data.filter(Number.isFinite)));
  return {
    type: 'radar',
    data: {
      labels: [...labels],
      datasets: series.map((s) => ({ label: s.name, data: s.data, borderColor: s.color, backgroundColor: alpha(s.color, 0.12), borderWidth: 1.5, pointRadius: 2 })),
    },
    options: {
      responsive: true,
      maintainAspectRatio: true,
      aspectRatio: 1.1,
      plugins: { title: { display: true, text: title }, legend: { position: 'bottom', labels: { boxWidth: 10 } } },
      scales: { r: { min: min < 0 ? Math.floor(min * 10) / 10 : 0, max: 1, ticks: { stepSize: 0.2, backdropColor: 'transparent' }, pointLabels: { font: { size: 10 } } } },
    },
  };
}

/** ROC curves (x = false-positive rate, y = true-positive rate) with the chance diagonal. */
export function rocConfig(lines: readonly RocLine[], title: string): ChartConfiguration<'scatter'> {
  const datasets = lines.map((l) => ({
    label: l.name,
    data: l.points,
    showLine: true,
    borderColor: l.role === 'mean' ? l.color : alpha(l.color, 0.35),
    backgroundColor: l.color,
    borderWidth: l.role === 'mean' ? 2 : 1,
    pointRadius: 0,
    order: l.role === 'mean' ? 0 : 1,
  }));
  datasets.push({ label: 'chance', data: [{ x: 0, y: 0 }, { x: 1, y: 1 }], showLine: true, borderColor: '#9ca3af', backgroundColor: '#9ca3af', borderWidth: 1, pointRadius: 0, order: 2 });
  return {
    type: 'scatter',
    data: { datasets },
    options: {
      responsive: true,
      maintainAspectRatio: true,
      aspectRatio: 1.1,
      plugins: {
        title: { display: true, text: title },
        // Fold curves and the diagonal stay out of the legend: one entry per model.
        legend: { position: 'bottom', labels: { boxWidth: 10, filter: (item) => lines[item.datasetIndex ?? -1]?.role === 'mean' } },
      },
      scales: {
        x: { type: 'linear', min: 0, max: 1, title: { display: true, text: 'false-positive rate' } },
        y: { type: 'linear', min: 0, max: 1, title: { display: true, text: 'true-positive rate' } },
      },
    },
  };
}

/** Grouped box plots: categories on x, one coloured box per series and category. */
export function boxPlotConfig(labels: readonly string[], series: readonly Series<BoxStats[]>[], title: string, yTitle: string, yRange?: [number, number]): ChartConfiguration<'boxplot'> {
  return {
    type: 'boxplot',
    data: {
      labels: [...labels],
      datasets: series.map((s, i) => ({
        label: s.name,
        // Precomputed statistics (chart-data.ts): the plugin draws them as given.
        data: s.data.map((b) => ({ ...b, items: [...b.items], outliers: [...b.outliers] })),
        borderColor: s.color ?? SERIES_COLORS[i],
        backgroundColor: alpha(s.color ?? SERIES_COLORS[i], 0.35),
        borderWidth: 1,
        outlierRadius: 2,
        itemRadius: 0,
        meanRadius: 0,
      })),
    },
    options: {
      responsive: true,
      maintainAspectRatio: true,
      aspectRatio: 1.3,
      plugins: { title: { display: true, text: title }, legend: { position: 'bottom', labels: { boxWidth: 10 } } },
      scales: { y: { ...(yRange ? { min: yRange[0], max: yRange[1] } : {}), title: { display: true, text: yTitle } } },
    },
  };
}
