#!/usr/bin/env bash
# Build a generic x86-64 Asterisk tarball for the ARI tests, from the exact sources in ../shared/asterisk/src.
#
# Why: the prebuilt ../shared/asterisk/asterisk-22.10.1-debian12-x86_64.tar.xz was compiled with -march=native
# (menuselect BUILD_NATIVE) on a CPU with AVX-512; on CPUs without AVX-512 (e.g. the AMD EPYC CI machine) it dies
# with SIGILL as soon as it starts. This rebuilds the same version, configure flags and module set with
# BUILD_NATIVE off, and packs it in the same layout, so that
#   ASTERISK_TARBALL=OUT_TARBALL ../shared/asterisk/start.sh DIR PORT
# runs it on any x86-64 CPU.
#
# Usage: scripts/asterisk-generic.sh OUT_TARBALL
#   Works offline: pjproject comes from src/pjproject-2.17.tar.xz (recompressed to the .tar.bz2 Asterisk expects).
#   Build deps (Debian): build-essential libjansson-dev libedit-dev libxml2-dev libxslt1-dev libsqlite3-dev
#   libssl-dev uuid-dev patchelf bzip2 xz-utils. Takes 7-13 min on 2 cores (make -j2 under nice; measured here).
# Environment: ASTERISK_SRC_DIR (default: <repo>/../shared/asterisk/src), ASTERISK_BUILD_DIR (build there and keep
#   it, so a rerun only redoes what changed; default: a temp dir, removed at the end), MAKE_JOBS (default 2).
set -euo pipefail

VERSION=22.10.1
PJ_VERSION=2.17
TOP="anxin-asterisk-$VERSION"      # top directory inside the tarball, as in the prebuilt one
PREFIX=/opt/anxin-asterisk          # compiled-in default paths; start.sh always runs asterisk with -C
JOBS="${MAKE_JOBS:-2}"

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SRC="${ASTERISK_SRC_DIR:-$REPO/../shared/asterisk/src}"

log() { echo "asterisk-generic: $(date -u +%H:%M:%S) $*"; }
die() { echo "asterisk-generic: error: $*" >&2; exit 1; }

[ $# -eq 1 ] || die "usage: $0 OUT_TARBALL"
OUT="$1"
mkdir -p "$(dirname "$OUT")"
OUT="$(cd "$(dirname "$OUT")" && pwd)/$(basename "$OUT")"

AST_TAR="$SRC/asterisk-$VERSION.tar.xz"
PJ_TAR="$SRC/pjproject-$PJ_VERSION.tar.xz"
[ -f "$AST_TAR" ] || die "missing $AST_TAR"
[ -f "$PJ_TAR" ] || die "missing $PJ_TAR"
for t in gcc g++ make xz bzip2 patchelf strip md5sum; do
  command -v "$t" >/dev/null 2>&1 || die "missing $t (apt-get install build-essential bzip2 xz-utils patchelf)"
done
for h in jansson.h histedit.h libxml2/libxml/parser.h libxslt/xslt.h sqlite3.h openssl/ssl.h uuid/uuid.h; do
  [ -f "/usr/include/$h" ] || die "missing /usr/include/$h (apt-get install libjansson-dev libedit-dev libxml2-dev libxslt1-dev libsqlite3-dev libssl-dev uuid-dev)"
done

if [ -n "${ASTERISK_BUILD_DIR:-}" ]; then
  WORK="$ASTERISK_BUILD_DIR"; mkdir -p "$WORK"; WORK="$(cd "$WORK" && pwd)"
else
  WORK="$(mktemp -d "${TMPDIR:-/tmp}/asterisk-generic.XXXXXX")"
  trap 'rm -rf "$WORK"' EXIT
fi
log "building Asterisk $VERSION (generic x86-64) in $WORK"

# The modules of the prebuilt tree (see ../shared/asterisk/README.md "Modules"): everything else is left out, which
# also keeps the build short. Local channels, the bridging core etc. are part of the asterisk binary itself.
KEEP_MODULES="
app_amd app_attended_transfer app_audiosocket app_blind_transfer app_bridgeaddchan app_bridgewait app_broadcast
app_chanisavail app_channelredirect app_chanspy app_controlplayback app_db app_dial app_directed_pickup app_dtmfstore
app_echo app_exec app_if app_milliwatt app_mixmonitor app_originate app_playback app_playtones app_read app_readexten
app_record app_reload app_sayunixtime app_senddtmf app_sendtext app_signal app_softhangup app_stack app_stasis
app_stasis_broadcast app_stream_echo app_talkdetect app_transfer app_userevent app_verbose app_waitforcond
app_waitforsilence app_waituntil app_while
bridge_builtin_features bridge_builtin_interval_features bridge_holding bridge_native_rtp bridge_simple bridge_softmix
chan_audiosocket chan_bridge_media chan_pjsip chan_rtp chan_websocket
codec_a_mu codec_alaw codec_g722 codec_gsm codec_resample codec_ulaw
format_gsm format_pcm format_sln format_wav format_wav_gsm
func_base64 func_blacklist func_callcompletion func_callerid func_cdr func_channel func_config func_cut func_db
func_devstate func_dialgroup func_dialplan func_env func_evalexten func_export func_extstate func_frame_drop
func_frame_trace func_global func_groupcount func_hangupcause func_holdintercept func_iconv func_jitterbuffer func_json
func_lock func_logic func_math func_md5 func_module func_periodic_hook func_pitchshift func_pjsip_aor
func_pjsip_contact func_pjsip_endpoint func_presencestate func_rand func_sayfiles func_scramble func_sha1 func_sorcery
func_sprintf func_srv func_strings func_sysinfo func_talkdetect func_timeout func_uri func_uuid func_version func_volume
pbx_config pbx_spool
res_ari res_ari_applications res_ari_asterisk res_ari_bridges res_ari_channels res_ari_device_states res_ari_endpoints
res_ari_events res_ari_model res_ari_playbacks res_ari_recordings res_ari_sounds
res_audiosocket res_clialiases res_clioriginate
res_format_attr_celt res_format_attr_g729 res_format_attr_h263 res_format_attr_h264 res_format_attr_ilbc
res_format_attr_opus res_format_attr_silk res_format_attr_siren14 res_format_attr_siren7 res_format_attr_vp8
res_http_websocket res_manager_devicestate res_manager_presencestate res_musiconhold res_mutestream res_mwi_devstate
res_pjproject res_pjsip res_pjsip_acl res_pjsip_authenticator_digest res_pjsip_caller_id res_pjsip_config_wizard
res_pjsip_dialog_info_body_generator res_pjsip_diversion res_pjsip_dlg_options res_pjsip_dtmf_info
res_pjsip_empty_info res_pjsip_endpoint_identifier_anonymous res_pjsip_endpoint_identifier_ip
res_pjsip_endpoint_identifier_user res_pjsip_exten_state res_pjsip_header_funcs res_pjsip_history res_pjsip_logger
res_pjsip_maintenance res_pjsip_messaging res_pjsip_nat res_pjsip_notify res_pjsip_one_touch_record_info
res_pjsip_outbound_authenticator_digest res_pjsip_outbound_publish res_pjsip_outbound_registration res_pjsip_path
res_pjsip_pidf_body_generator res_pjsip_pidf_digium_body_supplement res_pjsip_pidf_eyebeam_body_supplement
res_pjsip_pubsub res_pjsip_refer res_pjsip_registrar res_pjsip_rfc3326 res_pjsip_rfc3329 res_pjsip_sdp_rtp
res_pjsip_session res_pjsip_sips_contact res_pjsip_transport_websocket res_pjsip_xpidf_body_generator
res_rtp_asterisk res_rtp_multicast
res_sorcery_astdb res_sorcery_config res_sorcery_memory res_sorcery_memory_cache
res_stasis res_stasis_answer res_stasis_broadcast res_stasis_device_state res_stasis_playback res_stasis_recording
res_stasis_snoop
res_timing_pthread res_timing_timerfd res_tonedetect res_websocket_client
"

# 1. Sources. Asterisk's bundled-pjproject build wants pjproject-2.17.tar.bz2 (md5-checked) in the externals cache;
#    recompressing the git-archive tarball with bzip2 -9 reproduces it byte for byte.
A="$WORK/asterisk-$VERSION"
if [ ! -f "$A/configure" ]; then
  log "extracting $(basename "$AST_TAR")"
  tar -xJf "$AST_TAR" -C "$WORK"
fi
CACHE="$WORK/externals-cache"
PJ_BZ2="$CACHE/pjproject-$PJ_VERSION.tar.bz2"
MD5_FILE="$A/third-party/pjproject/pjproject-$PJ_VERSION.tar.bz2.md5"
want="$(awk '{print $1; exit}' "$MD5_FILE")"
mkdir -p "$CACHE"
if [ ! -f "$PJ_BZ2" ] || [ "$(md5sum < "$PJ_BZ2" | cut -d' ' -f1)" != "$want" ]; then
  log "recompressing $(basename "$PJ_TAR") to $(basename "$PJ_BZ2")"
  xz -dc "$PJ_TAR" | bzip2 -9 > "$PJ_BZ2.tmp"
  mv "$PJ_BZ2.tmp" "$PJ_BZ2"
fi
got="$(md5sum < "$PJ_BZ2" | cut -d' ' -f1)"
if [ "$got" != "$want" ]; then
  # Same pinned sources, different bzip2 output (other bzip2 build): accept our archive instead of failing offline.
  log "warning: pjproject md5 $got differs from Asterisk's $want; using the local archive of the pinned sources"
  echo "$got  pjproject-$PJ_VERSION.tar.bz2" > "$MD5_FILE"
else
  log "pjproject-$PJ_VERSION.tar.bz2 md5 ok ($got)"
fi

cd "$A"

# 2. Configure (flags as in the README of the prebuilt tree).
if [ ! -f config.status ] || [ ! -f menuselect.makeopts ]; then
  log "configure"
  nice -n 10 ./configure --prefix="$PREFIX" --with-pjproject-bundled --with-externals-cache="$CACHE" \
    --with-jansson --without-libcurl --without-srtp --without-dahdi --without-pri --without-ss7 \
    --without-postgres --without-unixodbc --without-gtk2 --without-x11 > "$WORK/configure.log" 2>&1 \
    || { tail -n 40 "$WORK/configure.log" >&2; die "configure failed (log: $WORK/configure.log)"; }
  nice -n 10 make menuselect.makeopts > "$WORK/menuselect.log" 2>&1 \
    || { tail -n 40 "$WORK/menuselect.log" >&2; die "menuselect failed (log: $WORK/menuselect.log)"; }
fi

# 3. Module selection: BUILD_NATIVE off (the point of this script), no sound downloads, only KEEP_MODULES.
log "menuselect: BUILD_NATIVE off, $(echo $KEEP_MODULES | wc -w) modules"
MS=menuselect/menuselect
args=(--disable BUILD_NATIVE)
for c in $("$MS" --category-list menuselect.makeopts 2>/dev/null); do
  case "$c" in MENUSELECT_CFLAGS|MENUSELECT_OPTS_*) ;; *) args+=(--disable-category "$c") ;; esac
done
for m in $KEEP_MODULES; do args+=(--enable "$m"); done
"$MS" "${args[@]}" menuselect.makeopts > "$WORK/menuselect-opts.log" 2>&1 \
  || { tail -n 40 "$WORK/menuselect-opts.log" >&2; die "menuselect options failed"; }
grep -q 'BUILD_NATIVE' <(grep '^MENUSELECT_CFLAGS=' menuselect.makeopts) && die "BUILD_NATIVE still enabled"
"$MS" --check-deps menuselect.makeopts > "$WORK/menuselect-deps.log" 2>&1 \
  || { tail -n 40 "$WORK/menuselect-deps.log" >&2; die "menuselect dependency check failed"; }

# 4. Build (niced, 2 jobs: the machine is shared).
log "make -j$JOBS (log: $WORK/make.log)"
t0=$(date +%s)
nice -n 10 make -j"$JOBS" > "$WORK/make.log" 2>&1 || { tail -n 60 "$WORK/make.log" >&2; die "make failed (log: $WORK/make.log)"; }
log "make done in $(( ($(date +%s) - t0) / 60 )) min"

# 5. Install into a stage; no sound packages (start.sh links Debian's asterisk-core-sounds-en).
STAGE="$WORK/stage"
rm -rf "$STAGE"
log "make install DESTDIR=$STAGE"
nice -n 10 make install DESTDIR="$STAGE" MENUSELECT_CORE_SOUNDS= MENUSELECT_MOH= MENUSELECT_EXTRA_SOUNDS= \
  > "$WORK/install.log" 2>&1 || { tail -n 40 "$WORK/install.log" >&2; die "make install failed (log: $WORK/install.log)"; }

# 6. Assemble the relocatable tree, same layout as the prebuilt tarball.
S="$STAGE$PREFIX"
T="$WORK/pack/$TOP"
rm -rf "$WORK/pack"; mkdir -p "$T/sbin" "$T/lib/asterisk/modules" "$T/var/lib/asterisk"
cp -a "$S/sbin/asterisk" "$T/sbin/"
ln -s asterisk "$T/sbin/rasterisk"
cp -a "$S"/lib/libasterisk*.so* "$T/lib/"
missing=""
for m in $KEEP_MODULES; do
  if [ -f "$S/lib/asterisk/modules/$m.so" ]; then cp -a "$S/lib/asterisk/modules/$m.so" "$T/lib/asterisk/modules/"
  else missing="$missing $m"; fi
done
[ -z "$missing" ] || die "modules not built:$missing"
V="$S/var/lib/asterisk"
cp -a "$V/documentation" "$V/rest-api" "$T/var/lib/asterisk/"
mkdir -p "$T/var/lib/asterisk/keys" "$T/var/lib/asterisk/agi-bin" "$T/var/lib/asterisk/sounds" \
  "$T/var/lib/asterisk/moh-fallback"
cp COPYING LICENSE "$T/"
# Music on hold without asterisk-moh-opsound-wav: start.sh links moh -> moh-fallback. The tone is plain data, so take
# the prebuilt tree's file when its tarball is there (it is, next to src/); else write 8 s of a soft 440 Hz tone,
# 8 kHz 16-bit mono, with python3.
TONE="$T/var/lib/asterisk/moh-fallback/anxin-fallback-tone.wav"
PREBUILT="$(ls -1 "$SRC"/../asterisk-"$VERSION"-debian12-x86_64.tar.xz 2>/dev/null | head -n1 || true)"
if [ -n "$PREBUILT" ]; then
  tar -xJOf "$PREBUILT" "$TOP/var/lib/asterisk/moh-fallback/anxin-fallback-tone.wav" > "$TONE" 2>/dev/null || rm -f "$TONE"
fi
[ -s "$TONE" ] || python3 - "$TONE" <<'EOF' || die "could not write the fallback tone (no prebuilt tarball, no python3)"
import math, struct, sys, wave
with wave.open(sys.argv[1], "wb") as w:
    w.setnchannels(1); w.setsampwidth(2); w.setframerate(8000)
    w.writeframes(b"".join(struct.pack("<h", int(3000 * math.sin(2 * math.pi * 440 * i / 8000))) for i in range(64000)))
EOF

# 7. Strip, make relocatable ($ORIGIN-relative RUNPATHs), check no AVX-512 code and that every library resolves.
log "strip + RUNPATH"
strip --strip-unneeded "$T/sbin/asterisk" "$T"/lib/libasterisk*.so.* "$T"/lib/asterisk/modules/*.so
patchelf --set-rpath '$ORIGIN/../lib' "$T/sbin/asterisk"
for f in "$T"/lib/libasterisk*.so.*; do patchelf --set-rpath '$ORIGIN' "$f"; done
for f in "$T"/lib/asterisk/modules/*.so; do patchelf --set-rpath '$ORIGIN/../..' "$f"; done
if objdump -d "$T/sbin/asterisk" "$T"/lib/libasterisk*.so.* | grep -q '%zmm'; then die "AVX-512 instructions in the build"; fi
if ldd "$T/sbin/asterisk" "$T"/lib/asterisk/modules/*.so | grep -q 'not found'; then
  ldd "$T/sbin/asterisk" "$T"/lib/asterisk/modules/*.so | grep -B3 'not found' >&2; die "unresolved libraries"
fi
"$T/sbin/asterisk" -V | grep -q "Asterisk $VERSION" || die "sbin/asterisk -V failed"

cat > "$T/BUILD-INFO" <<EOF
Asterisk $VERSION, generic x86-64 build (menuselect BUILD_NATIVE disabled, no -march=native: runs on any x86-64 CPU;
the prebuilt asterisk-$VERSION-debian12-x86_64.tar.xz needs AVX-512).
Built $(date -u +%Y-%m-%d) on $(. /etc/os-release && echo "$PRETTY_NAME") $(uname -m) by anxin scripts/asterisk-generic.sh,
gcc $(gcc -dumpfullversion), make -j$JOBS.
Sources: asterisk-$VERSION.tar.xz (github asterisk/asterisk tag $VERSION) and bundled pjproject $PJ_VERSION from
pjproject-$PJ_VERSION.tar.xz (github pjsip/pjproject tag $PJ_VERSION, Asterisk's patches applied), both from shared/asterisk/src.
./configure --prefix=$PREFIX --with-pjproject-bundled --with-externals-cache=<dir> --with-jansson
  --without-libcurl --without-srtp --without-dahdi --without-pri --without-ss7 --without-postgres --without-unixodbc --without-gtk2 --without-x11
menuselect: --disable BUILD_NATIVE, all module categories disabled, then the $(echo $KEEP_MODULES | wc -w) modules of the prebuilt tree enabled.
binaries stripped (strip --strip-unneeded); RUNPATH set to \$ORIGIN-relative paths (relocatable); run with -C <asterisk.conf>.
License: GPLv2 (COPYING, LICENSE).
EOF

# 8. Pack.
log "packing $OUT"
tar -C "$WORK/pack" --owner=0 --group=0 --numeric-owner --sort=name -cf - "$TOP" | xz -6 -T"$JOBS" > "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
[ -s "$OUT" ] || die "no $OUT"
log "done: $OUT ($(du -h "$OUT" | cut -f1))"
