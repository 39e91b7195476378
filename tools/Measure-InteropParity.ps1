#!/usr/bin/env pwsh
<#
.SYNOPSIS
    Measures import + forward parity against the PyTorch reference (tools/reference/tacotron2_reference.py).
.DESCRIPTION
    Writes an NVIDIA-format checkpoint with the reference (random weights after a few training steps, zip or legacy,
    fp32 or fp16), imports it with Import-TacotronCheckpoint, runs the same .npz batch through the reference's forward and
    Invoke-TacotronForward, and prints the maximum absolute difference per output array. Needs /usr/bin/python3 with
    torch and numpy, and the module built (build.ps1 build) or -ModulePath.
.EXAMPLE
    ./tools/Measure-InteropParity.ps1 -Preset small -Fp16
#>
param(
    [ValidateSet('tiny', 'small', 'nvidia')] [string] $Preset = 'small',
    [switch] $Fp16,
    [switch] $Legacy,
    [string] $TextLengths = '40,40',   # comma-separated, longest first
    [string] $MelLengths = '160,120',
    [string] $ModulePath = $env:TACOTRON_MODULE_PATH,
    [string] $Reference = (Join-Path $PSScriptRoot 'reference/tacotron2_reference.py')
)
$ErrorActionPreference = 'Stop'
if (-not $ModulePath) { $ModulePath = Join-Path $PSScriptRoot '../out/module/TacotronRecovery' }
Import-Module $ModulePath -Force
$work = Join-Path ([IO.Path]::GetTempPath()) ("interop-parity-" + [guid]::NewGuid().ToString('n').Substring(0, 8))
New-Item -ItemType Directory $work | Out-Null
try {
    $dims = Join-Path $work 'dims.json'
    $values = switch ($Preset) {
        'tiny' { @{ symbols_embedding_dim = 16; encoder_embedding_dim = 16; encoder_n_convolutions = 2; decoder_rnn_dim = 24; attention_rnn_dim = 20; prenet_dim = 8; attention_dim = 6; attention_location_n_filters = 4; attention_location_kernel_size = 7; postnet_embedding_dim = 10; postnet_n_convolutions = 3 } }
        'small' { @{ symbols_embedding_dim = 256; encoder_embedding_dim = 256; decoder_rnn_dim = 512; attention_rnn_dim = 512; prenet_dim = 128; postnet_embedding_dim = 256 } }
        'nvidia' { @{} }
    }
    $values | ConvertTo-Json | Set-Content $dims
    $pt = Join-Path $work 'ref.pt'
    $flags = @(); if ($Fp16) { $flags += '--fp16' }; if ($Legacy) { $flags += '--legacy' }
    & /usr/bin/python3 $Reference random --dims $dims --out $pt --train-steps 2 @flags | Out-Null
    if ($LASTEXITCODE) { throw "$Reference random failed" }
    $imported = Import-TacotronCheckpoint -Path $pt
    $in = Join-Path $work 'in.npz'
    $code = "import sys, numpy as np; r = np.random.default_rng(5); tl = [int(x) for x in sys.argv[2].split(',')]; ml = [int(x) for x in sys.argv[3].split(',')]; " +
        "t = np.zeros((len(tl), max(tl)), np.int64); m = np.zeros((len(tl), 80, max(ml)), np.float32)`n" +
        "for i, (a, b) in enumerate(zip(tl, ml)): t[i, :a] = r.integers(1, 148, a); m[i, :, :b] = r.standard_normal((80, b)) * 0.5 - 4`n" +
        "np.savez(sys.argv[1], text=t, input_lengths=np.array(tl, np.int64), mel=m, output_lengths=np.array(ml, np.int64))"
    & /usr/bin/python3 -c $code $in $TextLengths $MelLengths
    & /usr/bin/python3 $Reference forward --checkpoint $pt --dims $dims --input $in --output (Join-Path $work 'ref.npz') | Out-Null
    $sw = [Diagnostics.Stopwatch]::StartNew()
    $ours = Invoke-TacotronForward -Checkpoint $imported.Path -InputFile $in -OutputFile (Join-Path $work 'ours.npz')
    $seconds = $sw.Elapsed.TotalSeconds
    $report = & /usr/bin/python3 -c @'
import sys, numpy as np
a, b = np.load(sys.argv[1]), np.load(sys.argv[2])
for k in sorted(b.files):
    d = np.abs(a[k] - b[k])
    print(f"{k:22s} {str(list(b[k].shape)):18s} all {d.max():.2e}  first utterance {d[0].max():.2e}")
'@ (Join-Path $work 'ref.npz') $ours.Path
    "preset $Preset, $(if ($Fp16) { 'fp16' } else { 'fp32' }), $(if ($Legacy) { 'legacy' } else { 'zip' }), $($imported.Parameters) parameters, text $TextLengths, mel $MelLengths (forward via engine: $([math]::Round($seconds, 1)) s)"
    $report
}
finally {
    Remove-Item -Recurse -Force $work
}
