<#
.SYNOPSIS
    Builds, tests, demonstrates and benchmarks TacotronRecovery.
.DESCRIPTION
    Tasks:
      build  lays out an importable module at out/module/TacotronRecovery (manifest, cmdlets, engine host, natives)
      test   builds, runs the xunit and Pester suites, prints one line 'N passed, N failed[, N skipped]'
      demo   the main job: train on the bundled demo corpus, break it, recover it, report
      bench  training-step benchmark (see shared/bench/PROTOCOL.md)
      clean  removes out/ and every bin/ and obj/
    Run through the repo's local .NET tool: dotnet tool restore && dotnet pwsh build.ps1 <task>
.PARAMETER Task
    build, test, demo, bench or clean. Default: build.
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
.PARAMETER Reference
    bench: run the PyTorch reference (shared/bench/reference.py, Debian python3-torch) back to back and print the ratio.
.EXAMPLE
    dotnet pwsh build.ps1 test
#>
[CmdletBinding()]
param(
    [Parameter(Position = 0)]
    [ValidateSet('build', 'test', 'demo', 'bench', 'clean')]
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
    # bench: run the PyTorch reference back to back (needs Debian's python3-torch) and print the ratio.
    [switch] $Reference,
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
        $total.Skipped += [int] $c.notExecuted
    }
    $total
}

function Invoke-Test {
    Invoke-Build
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
@{ Passed = `$r.PassedCount; Failed = `$r.FailedCount + `$r.FailedBlocksCount + `$r.FailedContainersCount; Skipped = `$r.SkippedCount + `$r.NotRunCount } | ConvertTo-Json | Set-Content '$pesterJson'
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
    Invoke-Native dotnet $benchArgs
    if ($Reference) {
        & (Join-Path $Root 'tools/Compare-BenchReference.ps1') -EngineDll $engine -Preset $Preset -Threads "$Threads" -Steps $Steps
    }
}

switch ($Task) {
    'build' { Invoke-Build }
    'test' { Invoke-Test }
    'demo' { Invoke-Demo }
    'bench' { Invoke-Bench }
    'clean' {
        Remove-Item $Out -Recurse -Force -ErrorAction SilentlyContinue
        Get-ChildItem $Root -Recurse -Directory -Include bin, obj | Remove-Item -Recurse -Force
    }
}
