#!/usr/bin/env bash
# Entry point of the build: restores the pinned Cake and runs build.cake with the arguments given.
set -euo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

if ! command -v dotnet >/dev/null 2>&1; then
    # Ubuntu's archive carries the .NET 10 SDK; Debian's does not (install it from Microsoft's packages there).
    sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
    if $sudo_cmd apt-get install -y -qq dotnet-sdk-10.0 >/dev/null 2>&1; then
        echo "Installed dotnet-sdk-10.0 from the distribution's archive."
    else
        echo "build.sh: the .NET 10 SDK is required and this distribution's archive does not have it." >&2
        echo "Install it (https://learn.microsoft.com/dotnet/core/install/linux-debian) and run this again." >&2
        exit 2
    fi
fi

dotnet tool restore >/dev/null
exec dotnet cake build.cake "$@"
