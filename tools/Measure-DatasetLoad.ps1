#!/usr/bin/env pwsh
<#
.SYNOPSIS
    Times TacotronDataset.Load on a dataset folder: a first load into an empty mel cache, then loads that read only the cache.
.DESCRIPTION
    Loads a built TacotronRecovery.Core.dll and calls TacotronDataset.Load with data.mel_cache_path set to a fresh temporary
    folder: the first load reads every WAV and computes its mel (and writes the cache); every later load is what a second
    epoch or a restarted engine pays. Prints one line per load with seconds, utterances, frames and the cache's hit and
    miss counters (a cache-only load has 0 misses). The temporary cache is deleted afterwards.
.EXAMPLE
    dotnet build src/TacotronRecovery.Core -c Release --artifacts-path /tmp/art-bench
    dotnet pwsh -NoProfile -File tools/Measure-DatasetLoad.ps1 -CoreAssembly /tmp/art-bench/bin/TacotronRecovery.Core/release/TacotronRecovery.Core.dll
#>
param(
    # Path of the built TacotronRecovery.Core.dll.
    [Parameter(Mandatory)] [string] $CoreAssembly,
    # Dataset folder (LJSpeech layout: metadata.csv and wavs/).
    [string] $Path = (Join-Path $PSScriptRoot '../samples/demo-corpus'),
    # Loads after the first one.
    [int] $CachedLoads = 2,
    # Threads for reading audio and computing mels (0 = one per core).
    [int] $MaxParallelism = 0
)
$ErrorActionPreference = 'Stop'
Add-Type -Path (Resolve-Path $CoreAssembly)

Add-Type -ReferencedAssemblies (Resolve-Path $CoreAssembly), 'System.Linq', 'System.Collections', 'System.Runtime' -TypeDefinition @'
public static class DatasetLoadBench
{
    public static string Run(string path, string cache, int maxParallelism)
    {
        var options = new TacotronRecovery.Core.Config.DataOptions { Path = path, MelCachePath = cache };
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var data = TacotronRecovery.Core.Data.TacotronDataset.Load(options, null, null, maxParallelism);
        sw.Stop();
        long frames = 0;
        foreach (var u in System.Linq.Enumerable.Concat(data.Train, data.Validation)) frames += u.Mel.Frames;
        return string.Format(System.Globalization.CultureInfo.InvariantCulture,
            "{0:F2} s, {1} utterances, {2:N0} frames, cache hits {3}, misses {4}",
            sw.Elapsed.TotalSeconds, data.Train.Count + data.Validation.Count, frames, data.Cache.Hits, data.Cache.Misses);
    }
}
'@
$dataset = (Resolve-Path $Path).Path
$cache = Join-Path ([IO.Path]::GetTempPath()) ("melcache-bench-" + [guid]::NewGuid().ToString('N'))
try {
    "first load (empty cache): " + [DatasetLoadBench]::Run($dataset, $cache, $MaxParallelism)
    for ($i = 1; $i -le $CachedLoads; $i++) {
        "load $($i + 1) (cache only):     " + [DatasetLoadBench]::Run($dataset, $cache, $MaxParallelism)
    }
}
finally {
    Remove-Item -LiteralPath $cache -Recurse -Force -ErrorAction SilentlyContinue
}
