#!/usr/bin/env pwsh
<#
.SYNOPSIS
    Injects one fault per scenario into the demo run, lets the automatic recovery handle it, and measures the result.
.DESCRIPTION
    For each scenario the script writes a config derived from samples/demo.yaml (same model, data, training and
    recovery settings; only `faults`, `training.max_steps` and the data path change), runs the engine's
    `supervise` verb to completion, and computes from the run directory:

      1. Finite weights: every metrics line with a non-finite loss component or gradient norm is skipped, the next
         applied step has a finite loss, and the next checkpoint after it is marked good (finite weights).
      2. Loss recovery: steps and minutes from the recovery action (RollbackCompleted, Restart or
         ReinitializeAttention; for a collapse handled without one, the fault itself) until the 20-step median total
         loss is within 10 % of the 20-step median before the fault. The window lies entirely after the action, so
         20 steps is the floor of this measurement. Target: <= 200 steps.
      3. Attention (collapse scenario, reported for all): steps and minutes from the fault until Diagonality >= 0.70,
         GateAccuracy >= 0.80 and Quality >= 70 hold in one measurement, separately for the validation and the
         teacher-forced training measurements. Target: <= 1000 steps.

    Steps are counted as metrics lines written after the anchor (a restart replays step numbers; a line is a step
    the engine actually trained). Minutes come from the metrics' timestamps. Prints one table and writes all
    figures to a JSON file.

    Scenarios (fault step F, 400 by default, after the demo run has aligned):
      nan       NaN in the mel loss for 5 steps from F (more skips than recovery.max_skips_in_window: rollback).
      lr        learning rate x 1e4 from F (until a rollback ends it).
      corrupt   the newest checkpoint (step F) is corrupted at F, then a 5-step NaN storm from F+1 forces a
                rollback, which must reject the corrupt file and fall back to an older good checkpoint.
                (A corrupt file alone changes nothing until something reads it.)
      collapse  attention re-initialised at F; runs F+1000 steps.
      kill      the engine process dies (FailFast) at step F; the supervisor restarts it.
.EXAMPLE
    dotnet build src/TacotronRecovery.Host -c Release --artifacts-path /tmp/art-proof
    OMP_WAIT_POLICY=PASSIVE dotnet pwsh -NoProfile -File tools/Measure-Recovery.ps1 -HostPath /tmp/art-proof/bin/TacotronRecovery.Host/release/TacotronRecovery.Host.dll -RunsRoot /tmp/proof-runs -Threads 2
.EXAMPLE
    dotnet pwsh -NoProfile -File tools/Measure-Recovery.ps1 -Scenario nan,kill -RunsRoot /tmp/proof-runs -AnalyzeOnly
    Recomputes the figures from existing run directories without training.
#>
param(
    # Scenarios to run, in this order: nan, lr, corrupt, collapse, kill (a comma-separated string works with -File).
    [string[]] $Scenario = @('nan', 'lr', 'corrupt', 'collapse', 'kill'),
    # Path of the built TacotronRecovery.Host.dll.
    [string] $HostPath = '/tmp/art-proof/bin/TacotronRecovery.Host/release/TacotronRecovery.Host.dll',
    # Folder for the generated configs, run directories, engine output and the summary JSON.
    [string] $RunsRoot = '/tmp/proof-runs',
    # Torch threads for the engine (2 on the 2-core machine; 1 when it is shared and loaded).
    [int] $Threads = 2,
    # The step at which the fault fires.
    [int] $FaultStep = 400,
    # Steps to train after the fault; default 1000 for collapse, 300 for the others.
    [int] $StepsAfterFault,
    # Base config (the demo run).
    [string] $Config = (Join-Path $PSScriptRoot '../samples/demo.yaml'),
    # Summary JSON file; defaults to <RunsRoot>/recovery-proof.json.
    [string] $OutFile,
    # Only recompute the figures from existing run directories.
    [switch] $AnalyzeOnly
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0
$inv = [System.Globalization.CultureInfo]::InvariantCulture
$Scenario = @($Scenario | ForEach-Object { $_ -split ',' } | ForEach-Object Trim | Where-Object { $_ })
foreach ($s in $Scenario) { if ($s -notin 'nan', 'lr', 'corrupt', 'collapse', 'kill') { throw "Unknown scenario '$s' (expected nan, lr, corrupt, collapse or kill)." } }
if (-not $OutFile) { $OutFile = Join-Path $RunsRoot 'recovery-proof.json' }
$null = New-Item -ItemType Directory -Force -Path $RunsRoot
$RunsRoot = (Resolve-Path $RunsRoot).Path

function Get-LoadAverage { (Get-Content /proc/loadavg -Raw).Split(' ')[0..2] -join ' ' }

function ConvertTo-Double($v) {
    if ($null -eq $v) { return [double]::NaN }
    if ($v -is [string]) { return [double]::Parse($v, $inv) }
    return [double]$v
}

function ConvertTo-Time($v) {
    if ($v -is [DateTimeOffset]) { return $v }
    if ($v -is [DateTime]) { return [DateTimeOffset]$v }
    return [DateTimeOffset]::Parse([string]$v, $inv)
}

function Read-JsonLines([string] $Path) {
    if (-not (Test-Path -LiteralPath $Path)) { return @() }
    $i = 0
    foreach ($line in [System.IO.File]::ReadLines($Path)) {
        if ($line.Trim().Length -eq 0) { continue }
        $o = $line | ConvertFrom-Json -DateKind String
        $o | Add-Member -NotePropertyName _index -NotePropertyValue ($i++)
        $o | Add-Member -NotePropertyName _time -NotePropertyValue (ConvertTo-Time $o.time)
        $o
    }
}

function Get-Median([double[]] $Values) {
    if ($Values.Count -eq 0) { return [double]::NaN }
    $s = [double[]]($Values | Sort-Object)
    $n = $s.Count
    if ($n % 2 -eq 1) { return $s[[int][math]::Floor($n / 2)] }
    return ($s[$n / 2 - 1] + $s[$n / 2]) / 2
}

function Get-FaultYaml([string] $Name, [int] $F) {
    switch ($Name) {
        'nan' { "faults:`n  nan_loss_at_step: $F`n  nan_loss_component: mel`n  nan_loss_steps: 5`n" }
        'lr' { "faults:`n  lr_explosion_at_step: $F`n  lr_explosion_factor: 10000`n" }
        'corrupt' { "faults:`n  corrupt_checkpoint_at_step: $F`n  nan_loss_at_step: $($F + 1)`n  nan_loss_component: mel`n  nan_loss_steps: 5`n" }
        'collapse' { "faults:`n  attention_collapse_at_step: $F`n  attention_collapse_mode: reinit`n" }
        'kill' { "faults:`n  kill_at_step: $F`n" }
    }
}

function New-ScenarioConfig([string] $Name, [int] $MaxSteps) {
    $base = (Resolve-Path $Config).Path
    $text = [System.IO.File]::ReadAllText($base)
    # Drop the demo's own faults section (a top-level key up to the next top-level key or the end).
    $text = [regex]::Replace($text, '(?ms)^faults:.*?(?=^\S|\z)', '')
    $text = [regex]::Replace($text, '(?m)^(\s+max_steps:\s*)\d+', "`${1}$MaxSteps")
    # The data path is relative to the base config; the derived config lives elsewhere.
    $text = [regex]::Replace($text, '(?ms)^(data:\s*\n(?:\s+.*\n)*?\s+path:\s*)([^\s#]+)', {
            param($m)
            $p = $m.Groups[2].Value
            if (-not [System.IO.Path]::IsPathRooted($p)) { $p = [System.IO.Path]::GetFullPath((Join-Path (Split-Path $base) $p)) }
            $m.Groups[1].Value + $p
        })
    $text = $text.TrimEnd() + "`n" + (Get-FaultYaml $Name $FaultStep)
    $path = Join-Path $RunsRoot "proof-$Name.yaml"
    [System.IO.File]::WriteAllText($path, $text)
    $path
}

# The fault step a scenario's generated config used (so -AnalyzeOnly needs no -FaultStep), else -FaultStep.
function Get-ConfiguredFaultStep([string] $Name) {
    $path = Join-Path $RunsRoot "proof-$Name.yaml"
    if (-not (Test-Path -LiteralPath $path)) { return $FaultStep }
    $key = @{ nan = 'nan_loss_at_step'; lr = 'lr_explosion_at_step'; corrupt = 'corrupt_checkpoint_at_step'; collapse = 'attention_collapse_at_step'; kill = 'kill_at_step' }[$Name]
    $m = [regex]::Match([System.IO.File]::ReadAllText($path), "(?m)^\s+$($key):\s*(\d+)")
    if ($m.Success) { [int]$m.Groups[1].Value } else { $FaultStep }
}

function Get-ScenarioFigures([string] $Name, [string] $RunPath) {
    $metrics = @(Read-JsonLines (Join-Path $RunPath 'metrics.jsonl'))
    $alignment = @(Read-JsonLines (Join-Path $RunPath 'alignment.jsonl'))
    $events = @(Read-JsonLines (Join-Path $RunPath 'events.jsonl'))
    if ($metrics.Count -eq 0) { throw "No metrics in $RunPath." }
    $F = Get-ConfiguredFaultStep $Name

    # (1) Non-finite steps never reach the weights.
    $nonFinite = @($metrics | Where-Object {
            $vals = @($_.loss, $_.mel_loss, $_.mel_postnet_loss, $_.gate_loss, $_.guided_attention_loss, $_.grad_norm) | ForEach-Object { ConvertTo-Double $_ }
            @($vals | Where-Object { -not [double]::IsFinite($_) }).Count -gt 0
        })
    $unskipped = @($nonFinite | Where-Object { -not $_.skipped })
    # A non-finite weight would make every later forward pass non-finite: the next applied step must be finite.
    $afterOk = $true
    foreach ($bad in $nonFinite) {
        $next = $metrics | Where-Object { $_._index -gt $bad._index -and -not $_.skipped } | Select-Object -First 1
        if ($next -and -not ([double]::IsFinite((ConvertTo-Double $next.loss)) -and [double]::IsFinite((ConvertTo-Double $next.grad_norm)))) { $afterOk = $false }
    }
    # The first checkpoint after the last non-finite step that was saved as good (the trainer checks every weight
    # for finiteness before it marks a checkpoint good; one saved right after a skipped step is "not good" by rule).
    $nextGood = $null
    if ($nonFinite.Count) {
        $lastBad = $nonFinite[-1]
        $nextGood = $events | Where-Object { $_.code -eq 'CheckpointSaved' -and $_._time -gt $lastBad._time -and $_.data.good } | Select-Object -First 1
    }
    $weightRollbacks = @($events | Where-Object { $_.kind -eq 'Recovery' -and $_.data -and $_.data.PSObject.Properties['evidence'] -and $_.data.evidence -match 'weights=non-finite' }).Count
    $skips = @($metrics | Where-Object { $_.skipped }).Count
    $lastCk = $events | Where-Object { $_.code -eq 'CheckpointSaved' } | Select-Object -Last 1

    # The fault's time: its FaultInjected event (collapse, corrupt: they fire after the step), else the end of the
    # first step at or after the fault step (NaN, learning rate: they act inside that step) or the restart (kill).
    $injected = $events | Where-Object { $_.code -eq 'FaultInjected' } | Select-Object -First 1
    $faultLine = $metrics | Where-Object { $_.step -ge $F } | Select-Object -First 1
    $restart = $events | Where-Object { $_.code -eq 'Restart' } | Select-Object -First 1
    if ($injected) { $faultTime = $injected._time }
    else {
        $faultTime = if ($faultLine) { $faultLine._time } else { $restart._time }
        if ($restart -and $restart._time -lt $faultTime) { $faultTime = $restart._time }
    }

    # (2) Loss back within 10 % of the pre-fault 20-step median.
    $pre = @($metrics | Where-Object { $_._time -lt $faultTime -and $_.step -ge ($F - 20) -and $_.step -lt $F -and -not $_.skipped } |
            ForEach-Object { ConvertTo-Double $_.loss } | Where-Object { [double]::IsFinite($_) })
    $preMedian = Get-Median $pre
    $preRecon = Get-Median @($metrics | Where-Object { $_._time -lt $faultTime -and $_.step -ge ($F - 20) -and $_.step -lt $F -and -not $_.skipped } |
            ForEach-Object { (ConvertTo-Double $_.mel_loss) + (ConvertTo-Double $_.mel_postnet_loss) + (ConvertTo-Double $_.gate_loss) })
    $anchor = $events | Where-Object { $_._time -ge $faultTime -and $_.code -in 'RollbackCompleted', 'Restart', 'ReinitializeAttention' } | Select-Object -First 1
    $anchorName = if ($anchor) { "$($anchor.code)@$($anchor.step)" } else { "fault@$F" }
    $anchorTime = if ($anchor) { $anchor._time } else { $faultTime }
    $post = @($metrics | Where-Object { $_._time -gt $anchorTime })
    $lossSteps = $null; $lossMinutes = $null; $lossAt = $null; $reconSteps = $null
    for ($i = 19; $i -lt $post.Count; $i++) {
        $window = $post[($i - 19)..$i]
        $vals = @($window | Where-Object { -not $_.skipped } | ForEach-Object { ConvertTo-Double $_.loss } | Where-Object { [double]::IsFinite($_) })
        $recon = @($window | Where-Object { -not $_.skipped } | ForEach-Object { (ConvertTo-Double $_.mel_loss) + (ConvertTo-Double $_.mel_postnet_loss) + (ConvertTo-Double $_.gate_loss) } | Where-Object { [double]::IsFinite($_) })
        if ($null -eq $lossSteps -and $vals.Count -ge 10 -and (Get-Median $vals) -le 1.1 * $preMedian) {
            $lossSteps = $i + 1; $lossAt = $post[$i].step
            $lossMinutes = [math]::Round(($post[$i]._time - $anchorTime).TotalMinutes, 2)
        }
        if ($null -eq $reconSteps -and $recon.Count -ge 10 -and (Get-Median $recon) -le 1.1 * $preRecon) { $reconSteps = $i + 1 }
        if ($null -ne $lossSteps -and $null -ne $reconSteps) { break }
    }

    # (3) Alignment back: Diagonality >= 0.70, GateAccuracy >= 0.80, Quality >= 70 in one measurement.
    $postSteps = @($metrics | Where-Object { $_._time -gt $faultTime })
    $align = [ordered]@{}
    foreach ($src in 'validation', 'train') {
        $rows = @($alignment | Where-Object { $_.source -eq $src })
        $before = $rows | Where-Object { $_._time -le $faultTime } | Select-Object -Last 1
        $after = @($rows | Where-Object { $_._time -gt $faultTime })
        $hit = $after | Where-Object { $_.diagonality -ge 0.70 -and $_.gate_accuracy -ge 0.80 -and $_.quality -ge 70 } | Select-Object -First 1
        $minDiag = if ($after.Count) { ($after | Measure-Object diagonality -Minimum).Minimum } else { $null }
        $last = $rows | Select-Object -Last 1
        $align[$src] = [ordered]@{
            before    = if ($before) { [ordered]@{ step = $before.step; diagonality = [math]::Round($before.diagonality, 3); gate_accuracy = [math]::Round($before.gate_accuracy, 3); quality = [math]::Round($before.quality, 1) } } else { $null }
            min_diagonality_after_fault = if ($null -ne $minDiag) { [math]::Round($minDiag, 3) } else { $null }
            recovered_at_step = if ($hit) { $hit.step } else { $null }
            # A train measurement is written just before its step's metrics line; a validation one just after it.
            steps     = if ($hit) { @($postSteps | Where-Object { $_._time -le $hit._time }).Count + [int]($src -eq 'train') } else { $null }
            minutes   = if ($hit) { [math]::Round(($hit._time - $faultTime).TotalMinutes, 2) } else { $null }
            final     = if ($last) { [ordered]@{ step = $last.step; diagonality = [math]::Round($last.diagonality, 3); gate_accuracy = [math]::Round($last.gate_accuracy, 3); quality = [math]::Round($last.quality, 1) } } else { $null }
        }
    }

    # The recovery decisions as they fired (consecutive repeats folded).
    $interesting = 'Recovery', 'Restart', 'Exhausted'
    $seq = [System.Collections.Generic.List[string]]::new()
    $prev = $null; $count = 0
    foreach ($e in ($events | Where-Object { $_._time -ge $faultTime -and ($_.kind -in $interesting -or $_.code -in 'RollbackCompleted', 'CheckpointRejected', 'RollbackImpossible', 'FaultInjected') })) {
        $label = "$($e.code)@$($e.step)"
        if ($prev -and $prev.code -eq $e.code -and $e.code -eq 'SkipStep') { $count++; $seq[$seq.Count - 1] = "SkipStep@$($prev.step)x$($count)"; continue }
        $seq.Add($label); $prev = $e; $count = 1
    }

    $stepSeconds = Get-Median @($metrics | ForEach-Object { ConvertTo-Double $_.step_seconds })
    [ordered]@{
        scenario                = $Name
        fault_step              = $F
        run                     = $RunPath
        metrics_lines           = $metrics.Count
        last_step               = $metrics[-1].step
        median_step_seconds     = [math]::Round($stepSeconds, 3)
        skipped_steps           = $skips
        non_finite_steps        = $nonFinite.Count
        non_finite_all_skipped  = ($unskipped.Count -eq 0)
        finite_after_non_finite = $afterOk
        next_good_checkpoint_step = if ($nextGood) { $nextGood.step } else { $null }
        non_finite_weight_decisions = $weightRollbacks
        final_checkpoint_good   = if ($lastCk) { [bool]$lastCk.data.good } else { $null }
        anchor                  = $anchorName
        pre_fault_loss_median   = [math]::Round($preMedian, 4)
        loss_recovered_steps    = $lossSteps
        loss_recovered_at_step  = $lossAt
        loss_recovered_minutes  = $lossMinutes
        loss_target_met         = ($null -ne $lossSteps -and $lossSteps -le 200)
        recon_loss_recovered_steps = $reconSteps
        alignment               = $align
        decisions               = @($seq)
    }
}

$results = [System.Collections.Generic.List[object]]::new()
foreach ($name in $Scenario) {
    $max = if ($StepsAfterFault -gt 0) { $FaultStep + $StepsAfterFault } elseif ($name -eq 'collapse') { $FaultStep + 1000 } else { $FaultStep + 300 }
    $runPath = Join-Path $RunsRoot "proof-$name"
    $sidecar = Join-Path $RunsRoot "proof-$name.run.json"
    $run = [ordered]@{ threads = $Threads; load_before = Get-LoadAverage; started = (Get-Date).ToUniversalTime().ToString('o') }
    if ($AnalyzeOnly -and (Test-Path -LiteralPath $sidecar)) {
        $saved = Get-Content -LiteralPath $sidecar -Raw | ConvertFrom-Json -AsHashtable
        $run = [ordered]@{}; foreach ($k in $saved.Keys) { $run[$k] = $saved[$k] }
    }
    elseif ($AnalyzeOnly) { $run = [ordered]@{} }
    if (-not $AnalyzeOnly) {
        $cfg = New-ScenarioConfig $name $max
        if (Test-Path -LiteralPath $runPath) { Remove-Item -LiteralPath $runPath -Recurse -Force }
        $env:OMP_WAIT_POLICY = 'PASSIVE'
        $log = Join-Path $RunsRoot "proof-$name.stdout.jsonl"
        Write-Host "[$((Get-Date).ToString('HH:mm:ss'))] $name`: training to step $max (fault at $FaultStep), threads $Threads, load $($run.load_before)"
        $sw = [System.Diagnostics.Stopwatch]::StartNew()
        & dotnet $HostPath supervise --config $cfg --runs-root $RunsRoot --run "proof-$name" --max-steps $max --threads $Threads > $log 2> "$log.err"
        $run.exit_code = $LASTEXITCODE
        $run.wall_minutes = [math]::Round($sw.Elapsed.TotalMinutes, 2)
        $run.load_after = Get-LoadAverage
        Write-Host "[$((Get-Date).ToString('HH:mm:ss'))] $name`: exit $($run.exit_code) after $($run.wall_minutes) min, load $($run.load_after)"
        $run | ConvertTo-Json | Set-Content -LiteralPath $sidecar
    }
    $fig = Get-ScenarioFigures $name $runPath
    foreach ($k in $run.Keys) { $fig[$k] = $run[$k] }
    $results.Add($fig)
}

$cpu = (Select-String -Path /proc/cpuinfo -Pattern '^model name\s*:\s*(.*)$' | Select-Object -First 1).Matches[0].Groups[1].Value
$summary = [ordered]@{
    measured  = (Get-Date).ToUniversalTime().ToString('o')
    machine   = [ordered]@{ cpu = $cpu; cores = [Environment]::ProcessorCount; os = [System.Runtime.InteropServices.RuntimeInformation]::OSDescription }
    threads   = @($results | ForEach-Object { if ($_.Contains('threads')) { $_['threads'] } } | Sort-Object -Unique)
    base_config = (Resolve-Path $Config).Path
    scenarios = $results
}
$summary | ConvertTo-Json -Depth 8 | Set-Content -LiteralPath $OutFile
$results | ForEach-Object {
    $a = if ($_.alignment.validation.steps) { $_.alignment.validation } else { $_.alignment.train }
    $src = if ($_.alignment.validation.steps) { 'val' } elseif ($_.alignment.train.steps) { 'train' } else { '-' }
    [pscustomobject]@{
        Scenario   = $_.scenario
        Skips      = $_.skipped_steps
        NonFinite  = $_.non_finite_steps
        AllSkipped = $_.non_finite_all_skipped -and $_.finite_after_non_finite
        Anchor     = $_.anchor
        LossSteps  = $_.loss_recovered_steps
        LossMin    = $_.loss_recovered_minutes
        AlignSteps = if ($a.steps) { "$($a.steps) ($src)" } else { '-' }
        AlignMin   = $a.minutes
        FinalDiag  = $_.alignment.validation.final.diagonality
        FinalGate  = $_.alignment.validation.final.gate_accuracy
        FinalQual  = $_.alignment.validation.final.quality
        SecPerStep = $_.median_step_seconds
    }
} | Format-Table -Property Scenario, Skips, NonFinite, AllSkipped, Anchor, LossSteps, LossMin, AlignSteps, AlignMin, FinalDiag, FinalGate, FinalQual, SecPerStep -AutoSize |
    Out-String -Width 220 | Write-Host
Write-Host "Summary written to $OutFile"
