// Python's start-up snapshot: boot Pyodide in Node, import what the page imports, write the memory snapshot.
// Run by buildsite/snapshot.py: node make_snapshot.mjs <pyodide.mjs URL> <out file> <preloads> <package dir> <package>
// [<package modules imported too, comma-separated>]
import fs from "node:fs";

const [pyodideModule, out, preload, packageDir, packageName, modules] = process.argv.slice(2);
const { loadPyodide } = await import(pyodideModule);
// PYTHONHASHSEED=0: the hash secret is frozen into the snapshot either way; 0 says so instead of hiding it.
const py = await loadPyodide({ _makeSnapshot: true, env: { PYTHONHASHSEED: "0" }, _sysExecutable: "python" });
py.runPython(`import ${preload}`);
// Where PyScript's config writes the package on the page (relative to the home directory, Python's cwd there), so
// the imported modules' __file__ matches the files the page has.
const home = py.runPython("import os; os.getcwd()");
py.FS.mkdirTree(`${home}/${packageName}`);
for (const name of fs.readdirSync(packageDir).filter((n) => n.endsWith(".py"))) {
  py.FS.writeFile(`${home}/${packageName}/${name}`, fs.readFileSync(`${packageDir}/${name}`));
}
py.runPython(`import sys, importlib
sys.path.insert(0, ${JSON.stringify(home)})
import ${modules ? `${packageName}, ${modules}` : packageName}
sys.path.remove(${JSON.stringify(home)})
importlib.invalidate_caches()`);
fs.writeFileSync(out, py.makeMemorySnapshot());
