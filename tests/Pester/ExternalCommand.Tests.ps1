# Start-TacotronTraining -Command: the supervisor runs an external trainer (fixtures/fake-trainer.sh, which behaves like
# a PyTorch script with the tacotron_recovery adapter) under the same recovery controller as our engine. No Python.
# Linux only (process groups, /proc). Every process these tests signal was started by them (pids and process groups
# from the run's own files and the fake trainer's record); every wait is bounded.

BeforeAll {
    Import-Module $env:TACOTRON_MODULE_PATH -Force
    $script:Fake = Join-Path $PSScriptRoot 'fixtures/fake-trainer.sh'

    function Wait-Until([scriptblock] $Condition, [int] $Seconds = 60) {
        $deadline = (Get-Date).AddSeconds($Seconds)
        while ((Get-Date) -lt $deadline) {
            if (& $Condition) { return $true }
            Start-Sleep -Milliseconds 200
        }
        return [bool](& $Condition)
    }

    # Live (not zombie) processes of process group $Group, from /proc.
    function Get-GroupMember([int] $Group) {
        foreach ($d in Get-ChildItem /proc -Directory -ErrorAction SilentlyContinue | Where-Object Name -match '^\d+$') {
            try { $stat = [System.IO.File]::ReadAllText("$($d.FullName)/stat") } catch { continue }
            $f = $stat.Substring($stat.LastIndexOf(')') + 2).Split(' ')
            if ($f[0] -notin 'Z', 'X' -and [int]$f[2] -eq $Group) { [int]$d.Name }
        }
    }

    # The fake trainer's record: one object per session (argv, pid/pgid, the knobs it saw).
    function Get-Session([string] $Record) {
        $sessions = @()
        foreach ($line in Get-Content $Record) {
            if ($line -like 'argv: *') { $sessions += [pscustomobject]@{ Argv = $line.Substring(6); Group = $null; Knobs = @() } }
            elseif ($line -like 'pid: *') { $sessions[-1].Group = [int]($line -replace '.*pgid: ', '') }
            elseif ($line -like 'knobs: *') { $sessions[-1].Knobs += $line.Substring(7) | ConvertFrom-Json }
        }
        $sessions
    }

    function New-RecoveryConfig([string] $Path, [int] $MaxRestarts = 3) {
        @"
recovery:
  skip_window_steps: 20
  max_skips_in_window: 2
  spike_persist_steps: 3
  cooldown_steps: 5
  max_restarts: $MaxRestarts
"@ | Set-Content $Path
        $Path
    }
}

Describe 'Start-TacotronTraining -Command' -Skip:(-not $IsLinux) {
    BeforeEach {
        $script:Runs = Join-Path $TestDrive 'runs'
        $script:Out = Join-Path $TestDrive "out-$([guid]::NewGuid().ToString('N').Substring(0, 8))"
        $script:Record = Join-Path $TestDrive "record-$([guid]::NewGuid().ToString('N').Substring(0, 8)).txt"
        $script:Config = New-RecoveryConfig (Join-Path $TestDrive 'recovery.yaml')
        $script:Command = @($Fake, '--output_directory', $Out, '-c', '{checkpoint}')
        $env:FAKE_RECORD = $Record
    }
    AfterEach {
        foreach ($name in 'FAKE_RECORD', 'FAKE_NAN_FROM', 'FAKE_DIE_AFTER', 'FAKE_WORKERS', 'FAKE_IGNORE_STOP', 'FAKE_MAX_STEPS') { Remove-Item "env:$name" -ErrorAction SilentlyContinue }
        if (Test-Path $Record) {
            foreach ($s in Get-Session $Record) { if ($s.Group) { & /usr/bin/kill -s KILL -- "-$($s.Group)" 2>$null } }
        }
    }

    It 'rolls back a NaN storm: the command restarts with {checkpoint} = the last Good checkpoint and the safe-mode learning rate in knobs.json' {
        $env:FAKE_NAN_FROM = 12; $env:FAKE_MAX_STEPS = 30
        $objects = Start-TacotronTraining -Config $Config -RunsRoot $Runs -Run storm -Command $Command -GraceSeconds 5 -MetricsInterval 5 -WarningAction SilentlyContinue
        $sessions = @(Get-Session $Record)
        $sessions.Count | Should -Be 2
        $sessions[0].Argv | Should -Be "--output_directory $Out" -Because 'without a checkpoint "-c {checkpoint}" is removed'
        $sessions[1].Argv | Should -Be "--output_directory $Out -c $Out/checkpoint_5" -Because 'checkpoint_5 was confirmed Good; checkpoint_10 was voided by the storm at step 12'
        $sessions[0].Knobs[0].learning_rate | Should -BeNullOrEmpty
        $sessions[1].Knobs[0].safe_mode_level | Should -Be 1 -Because 'knobs.json is written before the restart'
        $sessions[1].Knobs[0].learning_rate | Should -Be 0.0005
        $sessions[1].Knobs[0].clip_threshold | Should -Be 0.5

        $events = Get-Content (Join-Path $Runs 'storm/events.jsonl') | ConvertFrom-Json
        $codes = @($events.code)
        $codes | Should -Contain 'Rollback'
        $codes | Should -Contain 'SafeModeEnter'
        ($events | Where-Object code -eq 'RollbackCompleted').data.restored_step | Should -Be 5
        $codes | Should -Not -Contain 'Restart' -Because 'a rollback is not a death'
        $ledger = Get-Content (Join-Path $Runs 'storm/checkpoints/external.json') -Raw | ConvertFrom-Json
        ($ledger | Where-Object step -eq 5).good | Should -BeTrue
        (Get-Content (Join-Path $Runs 'storm/recovery-state.json') -Raw | ConvertFrom-Json).rollbacks | Should -Be 1

        # The same objects as for our engine: StepMetrics every 5 steps and skipped ones, decisions, the run at the end.
        @($objects | Where-Object { $_ -is [TacotronRecovery.Core.Metrics.StepMetrics] }).Count | Should -BeGreaterThan 5
        @($objects | Where-Object { $_ -is [TacotronRecovery.Core.Metrics.AlignmentMetrics] }).Count | Should -BeGreaterThan 3
        @($objects | Where-Object { $_ -is [TacotronRecovery.Core.Metrics.TrainingEvent] }).code | Should -Contain 'Rollback'
        $objects[-1].Status | Should -Be 'Completed'
        (Get-Content (Join-Path $Runs 'storm/alignment.jsonl') -TotalCount 1 | ConvertFrom-Json).diagonality | Should -Be 1
    }

    It 'escalates repeated deaths one safe-mode level each and ends Exhausted (exit code 3, status Failed) as for our engine' {
        $env:FAKE_DIE_AFTER = 9 # checkpoint_5 is confirmed Good at step 8 (3 healthy steps), checkpoint_10 at step 13
        $null = New-RecoveryConfig $Config -MaxRestarts 2
        $null = Start-TacotronTraining -Config $Config -RunsRoot $Runs -Run dying -Command $Command -ErrorVariable failed -ErrorAction SilentlyContinue -WarningAction SilentlyContinue
        $failed.FullyQualifiedErrorId | Should -BeLike 'RecoveryExhausted*'
        $state = Get-Content (Join-Path $Runs 'dying/run.json') -Raw | ConvertFrom-Json
        $state.status | Should -Be 'Failed'
        $state.exit_code | Should -Be 3
        $decisions = @(Get-Content (Join-Path $Runs 'dying/events.jsonl') | ConvertFrom-Json | Where-Object code -in 'Restart', 'Exhausted')
        $decisions.code | Should -Be @('Restart', 'Restart', 'Exhausted')
        $decisions[0].data.exit_code | Should -Be 1
        $decisions[0].data.stderr_tail | Should -Contain 'fake-trainer: dying at step 9'
        $sessions = @(Get-Session $Record)
        $sessions.Count | Should -Be 3
        @($sessions | ForEach-Object { $_.Knobs[-1].safe_mode_level }) | Should -Be @(0, 1, 2)
        $sessions[1].Argv | Should -Be "--output_directory $Out -c $Out/checkpoint_5"
        $sessions[2].Argv | Should -Be "--output_directory $Out -c $Out/checkpoint_10"
    }

    It '-Detached returns at once; Stop-TacotronTraining stops the whole process group, workers that ignore the stop included' {
        $env:FAKE_WORKERS = 2; $env:FAKE_IGNORE_STOP = 1
        $watch = [System.Diagnostics.Stopwatch]::StartNew()
        $run = Start-TacotronTraining -RunsRoot $Runs -Run detached -Command $Command -GraceSeconds 2 -Detached
        $watch.Elapsed.TotalSeconds | Should -BeLessThan 20
        $run.Status | Should -Be 'Running'
        Wait-Until { (Test-Path $Record) -and (Get-Session $Record)[0].Group } | Should -BeTrue
        $group = (Get-Session $Record)[0].Group
        Wait-Until { @(Get-GroupMember $group).Count -ge 3 } 20 | Should -BeTrue -Because 'the trainer and its 2 workers run in one group'
        (Get-Content (Join-Path $Runs 'detached/run.json') -Raw | ConvertFrom-Json).pid | Should -Be $group

        $final = Stop-TacotronTraining -Run detached -RunsRoot $Runs -TimeoutSeconds 60 -PassThru
        $final.Status | Should -Be 'Stopped'
        @(Get-GroupMember $group) | Should -BeNullOrEmpty
        Get-Content (Join-Path $Runs 'detached/training.log') -Raw | Should -BeLike '*SIGTERM to its process group*SIGKILL to its process group*'
        Test-Path (Join-Path $Runs 'detached/stop.request') | Should -BeFalse
    }

    It 'runs the command in the current location, and Stop-TacotronTraining -Force kills its whole process group' {
        $env:FAKE_WORKERS = 1; $env:FAKE_IGNORE_STOP = 1
        Push-Location $TestDrive
        try {
            $null = Start-TacotronTraining -RunsRoot $Runs -Run forced -Command $Fake, '--output_directory', 'relative-out', '-c', '{checkpoint}' -GraceSeconds 300 -Detached
        }
        finally { Pop-Location }
        Wait-Until { Test-Path (Join-Path $TestDrive 'relative-out/checkpoint_5') } | Should -BeTrue -Because 'relative paths resolve in the location the command was started from'
        Wait-Until { (Test-Path (Join-Path $Runs 'forced/checkpoints/external.json')) -and (Get-Content (Join-Path $Runs 'forced/checkpoints/external.json') -Raw) -like '*checkpoint_5*' } | Should -BeTrue
        (Get-Content (Join-Path $Runs 'forced/checkpoints/external.json') -Raw | ConvertFrom-Json)[0].path | Should -Be (Join-Path $TestDrive 'relative-out/checkpoint_5')
        $group = (Get-Session $Record)[0].Group
        @(Get-GroupMember $group).Count | Should -BeGreaterOrEqual 2

        $final = Stop-TacotronTraining -Run forced -RunsRoot $Runs -TimeoutSeconds 3 -Force -PassThru -WarningAction SilentlyContinue
        $final.Status | Should -Be 'Killed'
        Wait-Until { @(Get-GroupMember $group).Count -eq 0 } 10 | Should -BeTrue -Because 'the command leads its own group, which -Force kills as a whole'
    }

    It 'is read by Get-TrainingMetrics and Test-LossHealth, and Invoke-EmergencyRecovery -Run restarts the command one safe-mode level up from its last Good checkpoint' {
        $env:FAKE_MAX_STEPS = 20
        $null = Start-TacotronTraining -Config $Config -RunsRoot $Runs -Run healthy -Command $Command
        $steps = @(Get-TrainingMetrics -Run healthy -RunsRoot $Runs)
        $steps.Count | Should -Be 20
        $steps[-1].Step | Should -Be 20
        @(Get-TrainingMetrics -Run healthy -RunsRoot $Runs -Kind Alignment).Count | Should -Be 4
        (Test-LossHealth -Run healthy -RunsRoot $Runs).Status | Should -Be 'Healthy'

        Remove-Item env:FAKE_MAX_STEPS
        $result = Invoke-EmergencyRecovery -Run healthy -RunsRoot $Runs -MaxSteps 8 -StageScale 0.01 -WarningAction SilentlyContinue
        $sessions = @(Get-Session $Record)
        $sessions.Count | Should -Be 2
        $sessions[1].Argv | Should -Be "--output_directory $Out -c $Out/checkpoint_20"
        $sessions[1].Knobs[0].safe_mode_level | Should -Be 1 -Because 'the emergency knobs are written before the command restarts'
        ($result | Where-Object { $_ -is [TacotronRecovery.Core.Recovery.RecoveryPlan] }) | Should -Not -BeNullOrEmpty
        $final = $result | Where-Object { $_ -is [TacotronRecovery.Core.Recovery.RecoveryResult] }
        $final | Should -Not -BeNullOrEmpty
        $final.GoodCheckpoint | Should -BeLike "$Out/checkpoint_*"
        # The step limit is 8 steps past step 20: the supervisor asks for the stop when it reads step 28; the command sees
        # the request at its next step (the supervisor polls every 200 ms, the fake steps every 50 ms).
        $last = (Get-Content (Join-Path $Runs 'healthy/metrics.jsonl') | Select-Object -Last 1 | ConvertFrom-Json).step
        $last | Should -BeGreaterOrEqual 28
        $last | Should -BeLessOrEqual 36
        (Get-Content (Join-Path $Runs 'healthy/run.json') -Raw | ConvertFrom-Json).status | Should -BeIn 'Completed', 'Stopped'
        @(Get-Content (Join-Path $Runs 'healthy/events.jsonl') | ConvertFrom-Json).code | Should -Contain 'SafeModeEnter'
    }
}
