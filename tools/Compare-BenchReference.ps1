#!/usr/bin/env pwsh
<#
.SYNOPSIS
    Runs the engine's training-step benchmark and the PyTorch reference back to back and prints both and their ratio.
.DESCRIPTION
    For each thread count: the engine's `bench` verb (--json), then the repository's PyTorch reference
    (tools/reference/tacotron2_reference.py bench, docs/benchmarks.md), same preset, same
    threads, same timed steps (both take one warm-up step). Prints one object per pair: medians, minima, maxima,
    ours/reference ratio of the medians, peak RSS of both (the reference's from GNU time, when installed), and the 1-minute load average before each run (the machine may be
    shared; compare ratios measured side by side, never absolute seconds across runs).
.EXAMPLE
    dotnet pwsh -NoProfile -File tools/Compare-BenchReference.ps1 -EngineDll out/module/TacotronRecovery/engine/TacotronRecovery.Host.dll -Threads '1,2' -Avx2

    Both sides with their AVX2 code paths on an AVX-512 machine (docs/benchmarks.md, "On an AVX2-only CPU").
.EXAMPLE
    dotnet build src/TacotronRecovery.Host -c Release --artifacts-path /tmp/art-bench
    dotnet pwsh -NoProfile -File tools/Compare-BenchReference.ps1 -EngineDll /tmp/art-bench/bin/TacotronRecovery.Host/release/TacotronRecovery.Host.dll -Preset small -Threads '1,2'
#>
param(
    # Path of the built TacotronRecovery.Host.dll.
    [Parameter(Mandatory)] [string] $EngineDll,
    # Benchmark preset: small or nvidia.
    [ValidateSet('small', 'nvidia')] [string] $Preset = 'small',
    # Thread counts, comma-separated ('1,2'); one pair per value.
    [string] $Threads = '1',
    # Timed steps of each run.
    [int] $Steps = 5,
    # The PyTorch reference Tacotron 2 of the repository.
    [string] $Reference = (Join-Path $PSScriptRoot 'reference/tacotron2_reference.py'),
    # Python with torch and numpy (Debian python3-torch python3-numpy); default $env:TACOTRON_PYTHON or /usr/bin/python3.
    [string] $Python = $(if ($env:TACOTRON_PYTHON) { $env:TACOTRON_PYTHON } else { '/usr/bin/python3' }),
    # Extra switches for the engine's bench verb, e.g. '--r','2' or '--health'.
    [string[]] $EngineArgs = @(),
    # Run the reference with OMP_WAIT_POLICY=PASSIVE too (by default it runs as Debian's PyTorch does; ours always
    # runs with PASSIVE, as the module starts its engine).
    [switch] $ReferencePassive,
    # Stand in for an AVX2-only CPU on an AVX-512 one: both sides run their AVX2 code (ours: MKL_ENABLE_INSTRUCTIONS=AVX2,
    # ATEN_CPU_CAPABILITY=avx2, ONEDNN_MAX_CPU_ISA=AVX2; the reference: OPENBLAS_CORETYPE=Haswell,
    # ATEN_CPU_CAPABILITY=avx2). The caches and clocks stay the machine's own: an approximation, said so in the output.
    [switch] $Avx2
)
$ErrorActionPreference = 'Stop'

$emulation = @{ MKL_ENABLE_INSTRUCTIONS = 'AVX2'; ATEN_CPU_CAPABILITY = 'avx2'; ONEDNN_MAX_CPU_ISA = 'AVX2'; OPENBLAS_CORETYPE = 'Haswell' }
$savedEnvironment = @{}
if ($Avx2) {
    foreach ($name in $emulation.Keys) {
        $savedEnvironment[$name] = [Environment]::GetEnvironmentVariable($name)
        [Environment]::SetEnvironmentVariable($name, $emulation[$name])
    }
}

function Get-Load { if (Test-Path /proc/loadavg) { [double]((Get-Content /proc/loadavg) -split ' ')[0] } else { $null } }

try {
    foreach ($n in [int[]]($Threads -split ',')) {
        $loadOurs = Get-Load
        $saved = $env:OMP_WAIT_POLICY
        $env:OMP_WAIT_POLICY = 'PASSIVE'
        $json = & dotnet $EngineDll bench --preset $Preset --threads $n --steps $Steps --json @EngineArgs 2>$null
        $env:OMP_WAIT_POLICY = if ($ReferencePassive) { 'PASSIVE' } else { $saved }
        if ($LASTEXITCODE -ne 0) { throw "engine bench failed with exit code $LASTEXITCODE" }
        $ours = ($json | Select-Object -Last 1 | ConvertFrom-Json).data.result

        $loadReference = Get-Load
        # GNU time (when installed) reports the reference's peak RSS in kB.
        $text = if (Test-Path /usr/bin/time) { & /usr/bin/time -f 'maxrss_kb=%M' $Python $Reference bench --preset $Preset --threads $n --steps $Steps 2>&1 | ForEach-Object { "$_" } }
                else { & $Python $Reference bench --preset $Preset --threads $n --steps $Steps }
        if ($LASTEXITCODE -ne 0) { throw "$Reference failed with exit code $LASTEXITCODE" }
        $line = $text | Where-Object { $_ -match '^median=' } | Select-Object -Last 1
        $blas = if (($text | Where-Object { $_ -match ' blas=(.+)$' } | Select-Object -Last 1) -match ' blas=(.+)$') { $Matches[1] } else { 'unknown' }
        if ($blas -notlike 'openblas*') {
            Write-Warning "The reference ran its matrix products on '$blas', not OpenBLAS: the ratio is not the protocol's. Install it with: apt-get install -y libopenblas0-pthread"
        }
        if ($line -notmatch 'median=([\d.]+) min=([\d.]+) max=([\d.]+)') { throw "unexpected reference output: $text" }
        $ref = [pscustomobject]@{ Median = [double]$Matches[1]; Min = [double]$Matches[2]; Max = [double]$Matches[3] }

        $rss = $text | Where-Object { $_ -match '^maxrss_kb=(\d+)' } | Select-Object -Last 1
        $refRss = if ($rss -match '^maxrss_kb=(\d+)') { [math]::Round([double]$Matches[1] / 1KB) } else { $null }

        [pscustomobject]@{
            Preset          = $Preset
            Threads         = $n
            FramesPerStep   = $ours.frames_per_step
            OursMedian      = [math]::Round($ours.median_seconds, 3)
            OursMin         = [math]::Round($ours.min_seconds, 3)
            OursMax         = [math]::Round($ours.max_seconds, 3)
            ReferenceMedian = $ref.Median
            ReferenceMin    = $ref.Min
            ReferenceMax    = $ref.Max
            Ratio           = [math]::Round($ours.median_seconds / $ref.Median, 3)
            PeakRssMiB      = [math]::Round($ours.peak_rss_bytes / 1MB)
            RefPeakRssMiB   = $refRss
            LoadOurs        = $loadOurs
            LoadReference   = $loadReference
            ReferenceWait   = if ($env:OMP_WAIT_POLICY) { $env:OMP_WAIT_POLICY } else { 'default' }
            ReferenceBlas   = $blas
            Isa             = if ($Avx2) { 'AVX2 (emulated on this CPU)' } else { 'native' }
            ReferenceCore   = if ($env:OPENBLAS_CORETYPE) { "OPENBLAS_CORETYPE=$env:OPENBLAS_CORETYPE" } else { 'auto' }
        }
        $env:OMP_WAIT_POLICY = $saved
    }
}
finally {
    foreach ($name in $savedEnvironment.Keys) { [Environment]::SetEnvironmentVariable($name, $savedEnvironment[$name]) }
}
