import { startHelper } from "/work/main/bench/workers/helper.ts";
const useThreads = process.argv[3] === "2";
if (useThreads) console.log("helper:", startHelper());
const { NETWORKS, networkConfig } = await import("/work/main/bench/networks.ts");
const { loadDataset } = await import("/work/main/src/data/datasets.ts");
const { Trainer } = await import("/work/main/src/experiment/trainer.ts");
for (const net of NETWORKS) {
  if (!process.argv[2].split(",").includes(net.id)) continue;
  const t = new Trainer(networkConfig(net, { every: 1e9 }), loadDataset("mnist", { train: 60000, test: 1000 }));
  for (let i = 0; i < 5; i++) t.trainStep();
  let n = 0; const t0 = performance.now();
  while (performance.now() - t0 < 2000) { t.trainStep(); n++; }
  const dt = (performance.now() - t0) / 1000;
  console.log(useThreads ? "2 threads" : "1 thread ", net.id, Math.round(n * net.batch / dt));
}
