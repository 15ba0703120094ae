// Draws the staff console's dashboard charts from the numbers the page carries as JSON (#dashboard-data).
// Every chart's numbers are also in the table below it, so nothing depends on this script running.
import {
  BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip,
} from "chart.js";

Chart.register(BarController, BarElement, CategoryScale, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip);

const COLOURS = ["#1f5f8b", "#d9822b", "#3c8d5a", "#a23b72", "#6c757d", "#c9a227"];

function series(table, labelColumn, valueColumns) {
  const labels = table.rows.map((row) => row[labelColumn]);
  const datasets = valueColumns.map((column, index) => ({
    label: table.columns[column],
    data: table.rows.map((row) => row[column]),
    backgroundColor: COLOURS[index % COLOURS.length],
    borderColor: COLOURS[index % COLOURS.length],
  }));
  return { labels, datasets };
}

function perChannel(table) {
  const days = [...new Set(table.rows.map((row) => row[0]))];
  const channels = [...new Set(table.rows.map((row) => row[1]))];
  const datasets = channels.map((channel, index) => ({
    label: channel,
    data: days.map((day) => (table.rows.find((row) => row[0] === day && row[1] === channel) || [0, 0, 0])[2]),
    backgroundColor: COLOURS[index % COLOURS.length],
  }));
  return { labels: days, datasets };
}

const SHAPES = {
  conversations_per_day: (t) => ({ type: "bar", data: perChannel(t), stacked: true }),
  messages_per_conversation: (t) => ({ type: "bar", data: series(t, 0, [1]) }),
  unhandled_rates: (t) => ({ type: "line", data: series(t, 0, [2, 3, 4]) }),
  top_topics: (t) => ({ type: "bar", data: series(t, 0, [1]), horizontal: true }),
  top_unanswered: (t) => ({ type: "bar", data: series(t, 0, [1]), horizontal: true }),
  recommendations: (t) => ({ type: "bar", data: series(t, 0, [1]) }),
  handover_funnel: (t) => ({ type: "bar", data: series(t, 0, [1]) }),
};

function draw() {
  const source = document.getElementById("dashboard-data");
  if (!source) return;
  const tables = JSON.parse(source.textContent);
  for (const table of tables) {
    const canvas = document.querySelector(`canvas[data-table="${table.name}"]`);
    const shape = SHAPES[table.name];
    if (!canvas || !shape || table.rows.length === 0) continue;
    const { type, data, stacked, horizontal } = shape(table);
    new Chart(canvas, {
      type,
      data,
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        indexAxis: horizontal ? "y" : "x",
        scales: { x: { stacked: !!stacked }, y: { stacked: !!stacked, beginAtZero: true } },
        plugins: { legend: { display: data.datasets.length > 1 } },
      },
    });
    canvas.dataset.drawn = "true";
  }
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
else draw();
