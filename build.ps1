<#
.SYNOPSIS
    Builds, tests, demonstrates, benchmarks and packages TacotronRecovery.
.DESCRIPTION
    Tasks:
      build  lays out an importable module at out/module/TacotronRecovery (manifest, cmdlets, engine host, natives)
      test   builds, runs the xunit and Pester suites, prints one line 'N passed, N failed[, N skipped]'
      demo   the main job: train on the bundled demo corpus, break it, recover it, report
      bench  training-step benchmark (docs/benchmarks.md)
      soak   builds, then runs tools/soak/Invoke-Soak.ps1: fault-free detached trainings in parallel on a loaded machine,
             with GC pressure and random stop requests; reports engine deaths (docs/engine.md, "Soak")
      package  builds, then packs the module (libtorch included) into out/package/<rid>/TacotronRecovery.<version>.nupkg
               for Install-PSResource (docs/install.md); the package runs only on the platform (RID) it was built on
      killsoak  builds, then the kill -9 soak (tools/soak/kill9.ps1) for -Minutes: SIGKILLs engine and supervisor of a
               tiny run at random moments, resumes, checks nothing was lost; prints the figures (docs/robustness.md)
      clean  removes out/ and every bin/ and obj/
    Run through the repo's local .NET tool: dotnet tool restore && dotnet pwsh build.ps1 <task>
.PARAMETER Task
    build, test, demo, bench, soak, killsoak, package or clean. Default: build.
.PARAMETER Configuration
    Release (default) or Debug.
.PARAMETER Cuda
    Build the engine against the Windows CUDA libtorch package instead of the CPU one. Only possible on Windows
    with a registry that serves that package; elsewhere the build stops with a message saying so.
.PARAMETER Filter
    test: only xunit tests whose name contains this text and Pester files whose name matches it.
.PARAMETER Preset
    bench: model preset (small or nvidia). Default small.
.PARAMETER Threads
    bench: torch intra-op threads. Default 1.
.PARAMETER Steps
    bench: timed steps after warm-up. Default 5.
.PARAMETER Warmup
    bench: warm-up steps. Default 1.
.PARAMETER Health
    bench: also measure the per-step health work and print its overhead.
.PARAMETER Phases
    bench: time the phases of a step.
.PARAMETER MixedPrecision
    bench: off (default), bf16 or fp16 products (docs/benchmarks.md, "Mixed precision").
.PARAMETER Minutes
    killsoak: how long to keep killing. Default 10.
.PARAMETER NoBuild
    package: pack the module already laid out at <Output>/module/TacotronRecovery instead of building it first.
.PARAMETER Reference
    bench: run the repository's PyTorch reference (tools/reference/tacotron2_reference.py; needs python3 with torch,
    Debian python3-torch; with libopenblas0-pthread for the protocol's OpenBLAS) back to back and print the ratio.
.EXAMPLE
    dotnet pwsh build.ps1 test
.EXAMPLE
    dotnet pwsh build.ps1 package
#>
[CmdletBinding()]
param(
    [Parameter(Position = 0)]
    [ValidateSet('build', 'test', 'demo', 'bench', 'soak', 'killsoak', 'package', 'clean')]
    [string] $Task = 'build',
    [ValidateSet('Release', 'Debug')]
    [string] $Configuration = 'Release',
    [switch] $Cuda,
    [string] $Filter,
    # test: only the xunit projects whose name contains this text (e.g. Core); 'Pester' runs only Pester.
    [string] $Only,
    [string] $Preset = 'small',
    [int] $Threads = 1,
    [int] $Steps = 5,
    # bench: warm-up steps before timing. Default 1.
    [int] $Warmup = 1,
    # bench: also run the per-step health work and report its overhead.
    [switch] $Health,
    # bench: time the phases of a step (encoder, decoder, postnet, backward, optimizer).
    [switch] $Phases,
    # bench: off, bf16 or fp16 products.
    [ValidateSet('off', 'bf16', 'fp16')]
    [string] $MixedPrecision = 'off',
    # bench: run the PyTorch reference back to back (needs Debian's python3-torch, and libopenblas0-pthread for the protocol's BLAS) and print the ratio.
    [switch] $Reference,
    # killsoak: minutes of kill rounds.
    [double] $Minutes = 10,
    # package: pack the module already at <Output>/module/TacotronRecovery, without building it first.
    [switch] $NoBuild,
    # Where build outputs go (module at <Output>/module/TacotronRecovery). Default: ./out.
    [string] $Output,
    # Optional dotnet --artifacts-path, so that parallel builds of one tree do not share bin/ and obj/.
    [string] $ArtifactsPath = $env:TACOTRON_ARTIFACTS
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
# Colour only on a terminal: pwsh writes ANSI colour (table headers, warnings, errors) even into a redirected stdout.
# A redirected run and NO_COLOR (https://no-color.org) get plain text, and so do the child pwsh processes (help
# generation, Pester), which inherit NO_COLOR.
if ($env:NO_COLOR -or [Console]::IsOutputRedirected) {
    $PSStyle.OutputRendering = 'PlainText'
    $PSStyle.Progress.Style = ''
    $env:NO_COLOR = '1'
}
$Root = $PSScriptRoot
$Out = if ($Output) { [System.IO.Path]::GetFullPath($Output) } else { Join-Path $Root 'out' }
$ArtifactArgs = if ($ArtifactsPath) { @('--artifacts-path', [System.IO.Path]::GetFullPath($ArtifactsPath)) } else { @() }
$ModuleDir = Join-Path $Out 'module/TacotronRecovery'
$env:DOTNET_CLI_TELEMETRY_OPTOUT = '1'
$env:DOTNET_NOLOGO = '1'
$env:DOTNET_SKIP_FIRST_TIME_EXPERIENCE = '1'
# Torch (libgomp) threads wait passively: spin-waiting collapses throughput on shared cores (docs/benchmarks.md).
if (-not $env:OMP_WAIT_POLICY) { $env:OMP_WAIT_POLICY = 'PASSIVE' }

function Invoke-Native {
    param([string] $File, [string[]] $Arguments)
    & $File @Arguments
    if ($LASTEXITCODE -ne 0) { throw "'$File $($Arguments -join ' ')' failed with exit code $LASTEXITCODE." }
}

function Get-Rid {
    $arch = [System.Runtime.InteropServices.RuntimeInformation]::OSArchitecture.ToString().ToLowerInvariant()
    if ($IsWindows) { return "win-$arch" }
    if ($IsMacOS) { return "osx-$arch" }
    return "linux-$arch"
}

function Invoke-Build {
    $cudaArgs = @()
    if ($Cuda) {
        if (-not $IsWindows) {
            throw 'A -Cuda build uses the Windows CUDA libtorch package (libtorch-cuda-12.8-win-x64) and can only be made on Windows. On Linux, build without -Cuda (CPU libtorch).'
        }
        $cudaArgs = @('-p:TacotronCuda=true')
    }
    Write-Host "build: $Configuration -> $ModuleDir"
    Invoke-Native dotnet (@('build', (Join-Path $Root 'TacotronRecovery.slnx'), '-c', $Configuration, '--nologo', '-v', 'q', '-clp:ErrorsOnly') + $cudaArgs + $ArtifactArgs)
    New-Item -ItemType Directory -Force -Path $ModuleDir | Out-Null
    # RID-specific, flat layouts: pwsh ignores a module's deps.json, so natives (SkiaSharp for plots; libtorch in
    # the engine) must sit next to the assemblies that load them.
    Invoke-Native dotnet (@('publish', (Join-Path $Root 'src/TacotronRecovery.Cmdlets'), '-c', $Configuration, '-r', (Get-Rid), '--self-contained', 'false',
        '-o', $ModuleDir, '--nologo', '-v', 'q', '-clp:ErrorsOnly') + $ArtifactArgs)
    Invoke-Native dotnet (@('publish', (Join-Path $Root 'src/TacotronRecovery.Host'), '-c', $Configuration, '-r', (Get-Rid), '--self-contained', 'false',
            '-o', (Join-Path $ModuleDir 'engine'), '--nologo', '-v', 'q', '-clp:ErrorsOnly') + $cudaArgs + $ArtifactArgs)
    Copy-Item (Join-Path $Root 'module/*') $ModuleDir -Recurse -Force
    Invoke-ChildPwsh @('-NoProfile', '-NonInteractive', '-File', (Join-Path $Root 'build/New-MamlHelp.ps1'), '-AssemblyPath', (Join-Path $ModuleDir 'TacotronRecovery.Cmdlets.dll'))
    if ($LASTEXITCODE -ne 0) { throw 'Help generation failed: every cmdlet needs a synopsis, a description, parameter descriptions and an example (see the lines above).' }
    Write-Host "build: module ready at $ModuleDir"
}

function Invoke-ChildPwsh([string[]] $Arguments) {
    # A fresh pwsh: loaded assemblies never unload, so generators and test runs get their own process.
    $pwsh = [System.Diagnostics.Process]::GetCurrentProcess().MainModule.FileName
    if ([System.IO.Path]::GetFileNameWithoutExtension($pwsh) -eq 'dotnet') {
        & dotnet tool run pwsh -- @Arguments
    } else {
        & $pwsh @Arguments
    }
}

function Get-PesterModulePath {
    $packages = if ($env:NUGET_PACKAGES) { $env:NUGET_PACKAGES } else { Join-Path ([Environment]::GetFolderPath('UserProfile')) '.nuget/packages' }
    $psd1 = Join-Path $packages 'pester/6.2.0/tools/Pester.psd1'
    if (-not (Test-Path $psd1)) {
        Invoke-Native dotnet @('restore', (Join-Path $Root 'tools/Pester/Pester.proj'), '--nologo', '-v', 'q')
    }
    if (-not (Test-Path $psd1)) { throw "Pester 6.2.0 was restored but $psd1 is missing." }
    return $psd1
}

function Read-TrxCounts([string] $Directory) {
    $total = [pscustomobject]@{ Passed = 0; Failed = 0; Skipped = 0 }
    foreach ($trx in Get-ChildItem $Directory -Filter *.trx -ErrorAction SilentlyContinue) {
        [xml] $xml = Get-Content -Raw $trx.FullName
        $c = $xml.TestRun.ResultSummary.Counters
        $total.Passed += [int] $c.passed
        $total.Failed += [int] $c.failed + [int] $c.error + [int] $c.timeout + [int] $c.aborted
        # vstest leaves Counters.notExecuted at 0 for skipped xunit tests: count their results instead.
        $total.Skipped += $xml.SelectNodes("//*[local-name()='UnitTestResult'][@outcome='NotExecuted']").Count
    }
    $total
}

function Test-PyTorch([string] $Python) {
    # $null when $Python imports torch and numpy, else what it said.
    if (-not (Test-Path $Python)) { return "no $Python" }
    $said = & $Python -c 'import torch, numpy' 2>&1 | Select-Object -Last 1
    if ($LASTEXITCODE -eq 0) { return $null }
    "$Python cannot import torch and numpy ($said)"
}

function Initialize-PyTorch {
    # The PyTorch parity tests run tools/reference/tacotron2_reference.py with /usr/bin/python3 (or $env:TACOTRON_PYTHON)
    # and need torch and numpy. As root on Debian/Ubuntu this installs them; elsewhere those tests are skipped.
    # Returns $null when they can run, else the reason they are skipped.
    $python = if ($env:TACOTRON_PYTHON) { $env:TACOTRON_PYTHON } else { '/usr/bin/python3' }
    $problem = Test-PyTorch $python
    if (-not $problem) { return $null }
    if ($env:TACOTRON_PYTHON) { return "$problem; TACOTRON_PYTHON is set, so nothing is installed" }
    if (-not $IsLinux -or -not (Test-Path /usr/bin/apt-get)) { return "$problem; no apt-get here to install python3-torch and python3-numpy" }
    if ((& id -u) -ne '0') { return "$problem; not root, so not installed: sudo apt-get install -y python3-torch python3-numpy" }
    $log = Join-Path $Out 'apt-pytorch.log'
    New-Item -ItemType Directory -Force -Path $Out | Out-Null
    Write-Host -NoNewline "test: apt-get install python3-torch python3-numpy (for the PyTorch parity tests, log $log) ... "
    $clock = [System.Diagnostics.Stopwatch]::StartNew()
    & /bin/sh -c 'apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-torch python3-numpy' *> $log
    $exit = $LASTEXITCODE
    $seconds = [math]::Round($clock.Elapsed.TotalSeconds)
    if ($exit -ne 0) {
        Write-Host "failed (exit $exit) after $seconds s"
        return "$problem; apt-get install python3-torch python3-numpy failed (exit $exit, see $log)"
    }
    Write-Host "done in $seconds s"
    $problem = Test-PyTorch $python
    if ($problem) { return "$problem after installing python3-torch and python3-numpy (see $log)" }
    $null
}

function Invoke-Test {
    Invoke-Build
    # Only when the run includes the tests that need it (the Engine xunit project or Pester).
    $pytorchSkip = if (-not $Only -or $Only -eq 'Pester' -or 'TacotronRecovery.Engine.Tests' -like "*$Only*") { Initialize-PyTorch }
    $results = Join-Path $Out 'test-results'
    Remove-Item $results -Recurse -Force -ErrorAction SilentlyContinue
    New-Item -ItemType Directory -Force -Path $results | Out-Null
    $passed = 0; $failed = 0; $skipped = 0

    foreach ($proj in Get-ChildItem (Join-Path $Root 'tests/Unit') -Recurse -Filter *.Tests.csproj | Where-Object { -not $Only -or ($Only -ne 'Pester' -and $_.BaseName -like "*$Only*") }) {
        $name = $proj.BaseName
        Write-Host "`n== xunit: $name"
        $testArgs = @('test', $proj.FullName, '-c', $Configuration, '--no-build', '--nologo',
            '--logger', "trx;LogFileName=$name.trx", '--results-directory', $results) + $ArtifactArgs
        if ($Filter) { $testArgs += @('--filter', "FullyQualifiedName~$Filter") }
        & dotnet @testArgs
        $exit = $LASTEXITCODE
        $trx = Join-Path $results "$name.trx"
        if (-not (Test-Path $trx)) {
            Write-Host "xunit: $name produced no results (exit $exit); counted as one failure."
            $failed += 1
        }
    }
    $x = Read-TrxCounts $results
    $passed += $x.Passed; $failed += $x.Failed; $skipped += $x.Skipped

    if ($Only -and $Only -ne 'Pester') { $pesterJson = $null } else {
    Write-Host "`n== Pester"
    $pester = Get-PesterModulePath
    $pesterJson = Join-Path $results 'pester.json'
    $pesterScript = @"
`$ErrorActionPreference = 'Stop'
Import-Module '$pester'
`$env:TACOTRON_MODULE_PATH = '$ModuleDir'
`$c = New-PesterConfiguration
`$c.Run.Path = '$(Join-Path $Root 'tests/Pester')'
`$c.Run.PassThru = `$true
`$c.Output.Verbosity = 'Detailed'
`$c.Output.RenderMode = 'Plaintext'
$(if ($Filter) { "`$c.Filter.FullName = '*$Filter*'" })
`$r = Invoke-Pester -Configuration `$c
# NotRunCount holds the tests a filter left out; they are not skipped.
@{ Passed = `$r.PassedCount; Failed = `$r.FailedCount + `$r.FailedBlocksCount + `$r.FailedContainersCount; Skipped = `$r.SkippedCount } | ConvertTo-Json | Set-Content '$pesterJson'
"@
    Invoke-ChildPwsh @('-NoProfile', '-NonInteractive', '-Command', $pesterScript)
    if (Test-Path $pesterJson) {
        $p = Get-Content -Raw $pesterJson | ConvertFrom-Json
        $passed += $p.Passed; $failed += $p.Failed; $skipped += $p.Skipped
    } else {
        Write-Host 'Pester produced no results; counted as one failure.'
        $failed += 1
    }
    }

    $line = "$passed passed, $failed failed"
    if ($skipped -gt 0) { $line += ", $skipped skipped" }
    Write-Host ''
    if ($skipped -gt 0 -and $pytorchSkip) { Write-Host "skipped: the PyTorch parity tests, $pytorchSkip." }
    Write-Host $line
    if ($failed -gt 0) { exit 1 }
}

function Invoke-Demo {
    Invoke-Build
    Import-Module $ModuleDir -Force
    & (Join-Path $Root 'examples/demo.ps1') -Root $Root
}

function Invoke-Bench {
    Invoke-Build
    $engine = Join-Path $ModuleDir 'engine/TacotronRecovery.Host.dll'
    $benchArgs = @($engine, 'bench', '--preset', $Preset, '--threads', $Threads, '--steps', $Steps, '--warmup', $Warmup)
    if ($Health) { $benchArgs += '--health' }
    if ($Phases) { $benchArgs += '--phases' }
    if ($MixedPrecision -ne 'off') { $benchArgs += @('--mixed-precision', $MixedPrecision) }
    Invoke-Native dotnet $benchArgs
    if ($Reference) {
        & (Join-Path $Root 'tools/Compare-BenchReference.ps1') -EngineDll $engine -Preset $Preset -Threads "$Threads" -Steps $Steps
    }
}

function Invoke-Soak {
    Invoke-Build
    & (Join-Path $Root 'tools/soak/Invoke-Soak.ps1') -ModulePath $ModuleDir -RunsRoot (Join-Path $Out ('soak/' + [DateTime]::UtcNow.ToString('yyyyMMdd-HHmmss')))
    if ($LASTEXITCODE) { exit $LASTEXITCODE }
}

function Invoke-KillSoak {
    Invoke-Build
    $json = Join-Path $Out 'killsoak.json'
    Remove-Item $json -ErrorAction SilentlyContinue
    Invoke-ChildPwsh @('-NoProfile', '-NonInteractive', '-Command',
        "& '$(Join-Path $Root 'tools/soak/kill9.ps1')' -ModulePath '$ModuleDir' -Kills 100000 -Minutes $Minutes | ConvertTo-Json -Depth 4 | Set-Content '$json'")
    if (-not (Test-Path $json)) { throw 'killsoak: the soak ended without results (see the lines above).' }
    $result = Get-Content -Raw $json | ConvertFrom-Json
    $result | Select-Object Date, Machine, Seconds, Seed, Rounds, Kills, EngineKills, SupervisorKills, Resumes, SupervisorRestarts,
        KilledDuringWrite, OrphanEngines, Rollbacks, ResumedEvents, LastStep, Superseded | Format-List | Out-Host
    $result.Checks | Format-Table | Out-Host
    if ($result.Failures) {
        $result.Failures | ForEach-Object { Write-Host "failure: $_" }
        Write-Host "killsoak: $(@($result.Failures).Count) failure(s); the run is kept at $($result.RunDir)"
        exit 1
    }
    Write-Host "killsoak: $($result.Kills) kills, $($result.Resumes + $result.SupervisorRestarts) resumes, 0 failures in $($result.Seconds) s"
}

function Invoke-Package {
    if (-not $NoBuild) { Invoke-Build }
    $manifest = Join-Path $ModuleDir 'TacotronRecovery.psd1'
    if (-not (Test-Path $manifest)) { throw "There is no module at $ModuleDir to pack. Run 'build.ps1 package' without -NoBuild." }
    # The package carries the engine's natives, so it installs only on the platform it was built for.
    $rid = if ($Cuda) { "$(Get-Rid)-cuda" } else { Get-Rid }
    # libtorch and TorchSharp are redistributed in binary form: their licence texts go with them.
    $nuget = if ($env:NUGET_PACKAGES) { $env:NUGET_PACKAGES } else { Join-Path ([Environment]::GetFolderPath('UserProfile')) '.nuget/packages' }
    $deps = Get-Content -Raw (Join-Path $ModuleDir 'engine/TacotronRecovery.Host.deps.json') | ConvertFrom-Json
    $licenses = New-Item -ItemType Directory -Force -Path (Join-Path $ModuleDir 'engine/licenses')
    foreach ($library in $deps.libraries.PSObject.Properties | Where-Object Name -Match '^(libtorch-|TorchSharp)') {
        foreach ($license in Get-ChildItem (Join-Path $nuget $library.Value.path) -Filter 'LICENSE*' -File -ErrorAction SilentlyContinue) {
            Copy-Item $license.FullName (Join-Path $licenses "$(($library.Name -split '/')[0]).$($license.Name)") -Force
        }
    }
    $destination = Join-Path $Out "package/$rid"
    New-Item -ItemType Directory -Force -Path $destination | Out-Null
    Get-ChildItem $destination -Filter '*.nupkg' | Remove-Item -Force
    Write-Host "package: packing $ModuleDir ($([math]::Round((Get-ChildItem $ModuleDir -Recurse -File | Measure-Object Length -Sum).Sum / 1MB)) MB) for $rid"
    Import-Module Microsoft.PowerShell.PSResourceGet
    Compress-PSResource -Path $ModuleDir -DestinationPath $destination
    $nupkg = Get-ChildItem $destination -Filter '*.nupkg' | Select-Object -First 1
    if (-not $nupkg) { throw "Compress-PSResource wrote no .nupkg to $destination." }
    Write-Host "package: $($nupkg.FullName) ($([math]::Round($nupkg.Length / 1MB)) MB, $rid only)"
    Write-Host "install: Register-PSResourceRepository -Name local -Uri '$destination' -Trusted; Install-PSResource TacotronRecovery -Repository local"
}

switch ($Task) {
    'build' { Invoke-Build }
    'test' { Invoke-Test }
    'demo' { Invoke-Demo }
    'bench' { Invoke-Bench }
    'soak' { Invoke-Soak }
    'package' { Invoke-Package }
    'killsoak' { Invoke-KillSoak }
    'clean' {
        Remove-Item $Out -Recurse -Force -ErrorAction SilentlyContinue
        Get-ChildItem $Root -Recurse -Directory -Include bin, obj | Remove-Item -Recurse -Force
    }
}
