#!/usr/bin/env pwsh
<#
.SYNOPSIS
    Measures WAV read + log-mel throughput (files per second) of TacotronRecovery.Core on a dataset folder.
.DESCRIPTION
    Loads a built TacotronRecovery.Core.dll, reads every wavs/*.wav of the dataset with WavFile.Read and computes its
    mel with one shared MelSpectrogram, first on one thread, then with Parallel.For on all cores. One warm-up pass
    is not timed. Prints one line per mode.
.EXAMPLE
    dotnet build src/TacotronRecovery.Core -c Release --artifacts-path /tmp/art-audio
    dotnet pwsh -NoProfile -File tools/Measure-MelThroughput.ps1 -CoreAssembly /tmp/art-audio/bin/TacotronRecovery.Core/release/TacotronRecovery.Core.dll
#>
param(
    # Path of the built TacotronRecovery.Core.dll.
    [Parameter(Mandatory)] [string] $CoreAssembly,
    # Dataset folder with a wavs/ subfolder.
    [string] $Path = (Join-Path $PSScriptRoot '../samples/demo-corpus'),
    # Timed passes over the dataset per mode.
    [int] $Passes = 3
)
$ErrorActionPreference = 'Stop'
Add-Type -Path (Resolve-Path $CoreAssembly)
$files = [string[]](Get-ChildItem -LiteralPath (Join-Path $Path 'wavs') -Filter *.wav | ForEach-Object FullName)
$options = [TacotronRecovery.Core.Config.DataOptions]::new()
$mel = [TacotronRecovery.Core.Audio.MelSpectrogram]::new($options)

# The per-file work runs in C# so that PowerShell's interpreter overhead is not measured.
Add-Type -ReferencedAssemblies (Resolve-Path $CoreAssembly), 'System.Threading.Tasks.Parallel', 'System.Threading' -TypeDefinition @'
public static class MelBench
{
    public static long Run(string[] files, TacotronRecovery.Core.Audio.MelSpectrogram mel, bool parallel)
    {
        long frames = 0;
        if (parallel)
        {
            System.Threading.Tasks.Parallel.For(0, files.Length, i =>
            {
                var clip = TacotronRecovery.Core.Audio.WavFile.Read(files[i], 22050);
                System.Threading.Interlocked.Add(ref frames, mel.Compute(clip.Samples).Frames);
            });
        }
        else
        {
            foreach (var f in files)
            {
                var clip = TacotronRecovery.Core.Audio.WavFile.Read(f, 22050);
                frames += mel.Compute(clip.Samples).Frames;
            }
        }
        return frames;
    }
}
'@
[void][MelBench]::Run($files, $mel, $false)
foreach ($parallel in $false, $true) {
    $sw = [Diagnostics.Stopwatch]::StartNew()
    $frames = 0
    for ($p = 0; $p -lt $Passes; $p++) { $frames += [MelBench]::Run($files, $mel, $parallel) }
    $sw.Stop()
    $n = $files.Count * $Passes
    $mode = if ($parallel) { "parallel ($([Environment]::ProcessorCount) cores)" } else { 'one thread' }
    '{0}: {1} files, {2:N0} frames in {3:N2} s = {4:N0} files/s, {5:N0} frames/s' -f $mode, $n, $frames, $sw.Elapsed.TotalSeconds,
        ($n / $sw.Elapsed.TotalSeconds), ($frames / $sw.Elapsed.TotalSeconds)
}
