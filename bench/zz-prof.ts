import { patternApp } from '/work/main/bench/apps';
const n = Number(process.argv[2] ?? 1000);
patternApp(50).synthYaml();
const t = Date.now();
const app = patternApp(n);
const t1 = Date.now();
app.synthYaml();
console.log('construct', t1 - t, 'synth', Date.now() - t1);
