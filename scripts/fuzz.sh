#!/usr/bin/env bash
# Fuzzes the parsers that read untrusted bytes, with libFuzzer and AddressSanitizer:
#
#     scripts/fuzz.sh [SECONDS] [TARGET...]     (default: 60 s each; targets json csv multipart batch-line template sheet-xml zip image)
#
# Each target (Fuzz/*Fuzz.swift) is built with `swiftc -sanitize=fuzzer,address` against the
# sources it tests — SluiceCore and SluiceWire as modules, the few SluiceIngest and SluiceServer files
# compiled in — and run for SECONDS from a corpus kept in .build/fuzz (seeded from
# Tests/Fixtures). A crash stops the script with the input that caused it saved under
# .build/fuzz/crashes; make it a regression test before fixing it. FUZZ_SEED fixes libFuzzer's
# seed (the test script's brief run uses one, so a CI run is repeatable); unset, each run differs.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(json csv multipart batch-line template sheet-xml zip image)

out=.build/fuzz
mkdir -p "$out/crashes"
flags=(-sanitize=fuzzer,address -parse-as-library -O -g -swift-version 6)

# SluiceCore and SluiceWire (the vendors' request shapes) once each, as modules the targets
# import; rebuilt when a source changed.
for module in SluiceCore SluiceWire; do
  if [ ! -f "$out/lib$module.a" ] || [ -n "$(find Sources/SluiceCore "Sources/$module" -newer "$out/lib$module.a" -name '*.swift')" ]; then
    swiftc "${flags[@]}" -module-name "$module" -I "$out" -emit-module -emit-module-path "$out/$module.swiftmodule" \
      -emit-library -static -o "$out/lib$module.a" $(find "Sources/$module" -name "*.swift" | sort)
  fi
done

ingest=(Sources/SluiceIngest/ByteReader.swift Sources/SluiceIngest/RecordParser.swift)
# Targets that inflate link Debian's zlib through the SluiceZlib module map.
zlib=(-I Sources/SluiceZlib -lz)
for target in "${targets[@]}"; do
  extra=()
  case "$target" in
  json) sources=(Fuzz/JSONFuzz.swift Fuzz/Check.swift); seeds=(Tests/Fixtures/JSONTestSuite/*.json) ;;
  csv) sources=(Fuzz/CSVFuzz.swift Fuzz/Check.swift Fuzz/FuzzFile.swift "${ingest[@]}" Sources/SluiceIngest/CSVRecordParser.swift)
       seeds=(Tests/Fixtures/*.csv) ;;
  batch-line) sources=(Fuzz/BatchLineFuzz.swift Fuzz/Check.swift Fuzz/FuzzFile.swift "${ingest[@]}" Sources/SluiceIngest/JSONLinesRecordParser.swift Sources/SluiceIngest/LineReader.swift)
       seeds=(Fuzz/seeds/batch-line/*) ;;
  multipart) sources=(Fuzz/MultipartFuzz.swift Fuzz/Check.swift Sources/SluiceServer/MultipartParser.swift); seeds=(Fuzz/seeds/multipart/*) ;;
  template) sources=(Fuzz/TemplateFuzz.swift Fuzz/Check.swift); seeds=(Fuzz/seeds/template/*) ;;
  sheet-xml) sources=(Fuzz/SheetXMLFuzz.swift Fuzz/Check.swift Sources/SluiceSpreadsheet/XMLPullReader.swift Sources/SluiceSpreadsheet/XLSXError.swift)
       seeds=(Fuzz/seeds/sheet-xml/*) ;;
  zip) sources=(Fuzz/ZipFuzz.swift Fuzz/Check.swift Sources/SluiceArchive/ZipDirectory.swift Sources/SluiceArchive/ZipEntry.swift
       Sources/SluiceArchive/ZipError.swift Sources/SluiceArchive/ZipInflater.swift Sources/SluiceArchive/ZipPath.swift
       Sources/SluiceArchive/LocalZip.swift)
       seeds=(Fuzz/seeds/zip/*); extra=("${zlib[@]}") ;;
  image) sources=(Fuzz/ImageFuzz.swift Fuzz/Check.swift Sources/SluiceProviders/ImageColours.swift); seeds=(Fuzz/seeds/image/*)
       extra=("${zlib[@]}") ;;
  *) echo "unknown target $target (json csv multipart batch-line template sheet-xml zip image)" >&2; exit 64 ;;
  esac
  binary="$out/fuzz-$target"
  if ! swiftc "${flags[@]}" -module-name "Fuzz${target//-/}" -I "$out" -L "$out" -lSluiceWire -lSluiceCore ${extra[@]+"${extra[@]}"} "${sources[@]}" -o "$binary" \
      2> "$out/$target.build.log"; then
    grep -v "ld.gold: warning: Cannot export local symbol" "$out/$target.build.log" >&2
    exit 1
  fi
  corpus="$out/corpus-$target"
  mkdir -p "$corpus"
  cp -n "${seeds[@]}" "$corpus/" 2>/dev/null || true
  echo "== fuzzing $target for ${seconds}s"
  if ! SWIFT_BACKTRACE=enable=no "$binary" "$corpus" -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
      -seed="${FUZZ_SEED:-0}" -artifact_prefix="$out/crashes/$target-" -print_final_stats=1 2> "$out/$target.log"; then
    tail -40 "$out/$target.log" >&2
    echo "fuzz-$target found a crash: $(ls -t "$out/crashes/$target-"* | head -1)" >&2
    exit 1
  fi
  grep -E "stat::number_of_executed_units|stat::peak_rss_mb|cov:" "$out/$target.log" | tail -3
done
