// Links node_modules/cdk8s-istio to this repository, so the examples import 'cdk8s-istio' exactly as users do.
const fs = require('fs');
const path = require('path');

const link = path.join(__dirname, '..', 'node_modules', 'cdk8s-istio');
try {
  fs.lstatSync(link);
} catch {
  fs.mkdirSync(path.dirname(link), { recursive: true });
  fs.symlinkSync('..', link, 'dir');
}
