#!/bin/sh
# Put the one-folder build of Eczema Tracker into the user's menu, or take it out again.
#
#   sh install.sh [BUILD_FOLDER]     install (default: the eczema-tracker/ folder beside this file,
#                                    as in the Linux archive, or dist/eczema-tracker in a checkout)
#   sh install.sh --uninstall        remove what install put there
#
# Install copies the build to ~/.local/lib/eczema-tracker/, the menu entry to
# ~/.local/share/applications/ and the icons to ~/.local/share/icons/hicolor/ (XDG_DATA_HOME
# is honoured). Nothing needs root. Uninstall never touches your photos and records (the store
# lives in your data folder and stays).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
data_home=${XDG_DATA_HOME:-$HOME/.local/share}
# not under the data folder: the photo store lives in ~/.local/share/eczema-tracker
app_dir=$HOME/.local/lib/eczema-tracker
desktop_file=$data_home/applications/eczema-tracker.desktop
icons=$data_home/icons/hicolor
sizes="16 22 24 32 48 64 128 256 512"

refresh_menus() {
    command -v update-desktop-database >/dev/null 2>&1 &&
        update-desktop-database -q "$data_home/applications" 2>/dev/null || true
    command -v gtk-update-icon-cache >/dev/null 2>&1 &&
        gtk-update-icon-cache -q -t "$icons" 2>/dev/null || true
}

if [ "${1:-}" = "--uninstall" ]; then
    rm -rf "$app_dir"
    rm -f "$desktop_file" "$icons/scalable/apps/eczema-tracker.svg"
    for size in $sizes; do
        rm -f "$icons/${size}x${size}/apps/eczema-tracker.png"
    done
    refresh_menus
    echo "Eczema Tracker is removed from the menu (your photos and records are kept)."
    exit 0
fi

build=${1:-}
if [ -z "$build" ]; then
    for candidate in "$here/eczema-tracker" "$here/../dist/eczema-tracker"; do
        if [ -x "$candidate/eczema-tracker" ]; then build=$candidate; break; fi
    done
fi
if [ -z "$build" ] || [ ! -x "$build/eczema-tracker" ]; then
    echo "install.sh: error: no built program found (expected BUILD_FOLDER/eczema-tracker); run 'make bundle' first" >&2
    exit 2
fi
build=$(cd "$build" && pwd)

# the icons come with the build (package data) or from the checkout
resources=$build/_internal/eczema_tracker/resources
[ -d "$resources" ] || resources=$here/../eczema_tracker/resources
desktop_src=$here/eczema-tracker.desktop
[ -f "$desktop_src" ] || desktop_src=$build/eczema-tracker.desktop

mkdir -p "$(dirname "$app_dir")" "$data_home/applications" "$icons/scalable/apps"
if [ "$build" != "$app_dir" ]; then
    rm -rf "$app_dir.new"
    cp -R "$build" "$app_dir.new"
    rm -rf "$app_dir"
    mv "$app_dir.new" "$app_dir"
fi
for size in $sizes; do
    mkdir -p "$icons/${size}x${size}/apps"
    cp "$resources/icons/eczema-tracker-$size.png" "$icons/${size}x${size}/apps/eczema-tracker.png"
done
cp "$resources/eczema-tracker.svg" "$icons/scalable/apps/eczema-tracker.svg"
sed -e "s|^Exec=.*|Exec=\"$app_dir/eczema-tracker\"|" \
    -e "s|^TryExec=.*||" "$desktop_src" >"$desktop_file.tmp"
echo "TryExec=$app_dir/eczema-tracker" >>"$desktop_file.tmp"
mv "$desktop_file.tmp" "$desktop_file"
refresh_menus
echo "Eczema Tracker is in your menu: $desktop_file (program in $app_dir)."
