// Throws on every call, after printing some garbage to stdout (which must only reach the log).
export default function () {
  process.stdout.write("\u0000\u0001garbage that is not JSON {{{\n");
  throw new Error("the plugin broke on purpose");
}
