BeforeAll {
    Import-Module $env:TACOTRON_MODULE_PATH -Force

    function Get-DeadPid {
        $p = Start-Process -FilePath 'true' -PassThru
        $p.WaitForExit()
        $p.Id
    }

    function ConvertTo-JsonLine([hashtable] $Record) { ([ordered]@{} + $Record) | ConvertTo-Json -Compress -Depth 5 }

    function Get-StepLine([int] $Step) {
        ConvertTo-JsonLine @{ step = $Step; time = ([datetimeoffset]'2026-01-01T00:00:00Z').AddSeconds($Step).ToString('o'); loss = 10.0 / $Step; mel_loss = 0.5; gate_loss = 0.1; grad_norm = 1.5; learning_rate = 0.001; mode = 'Normal' }
    }

    # A run directory as a crashed engine leaves it: metrics.jsonl with a torn last line, run.json saying Running
    # with a dead pid, three checkpoints in a manifest of which the newest was tampered with.
    function New-TestRun {
        param([string] $Root, [string] $Name = 'voice', [string] $Status = 'Running', [int] $EnginePid = (Get-DeadPid))
        $dir = Join-Path $Root $Name
        New-Item -ItemType Directory -Force -Path (Join-Path $dir 'checkpoints') | Out-Null
        $metrics = (1..5 | ForEach-Object { Get-StepLine $_ }) -join "`n"
        [IO.File]::WriteAllText((Join-Path $dir 'metrics.jsonl'), $metrics + "`n" + '{"step":6,"time":"2026-01-01T00:00:06Z","lo')
        $align = @(
            ConvertTo-JsonLine @{ step = 2; time = '2026-01-01T00:00:02.5Z'; source = 'train'; diagonality = 0.25; gate_accuracy = 0.6; quality = 20 }
            ConvertTo-JsonLine @{ step = 4; time = '2026-01-01T00:00:04.5Z'; source = 'validation'; diagonality = 0.75; gate_accuracy = 0.9; quality = 71 }
        ) -join "`n"
        [IO.File]::WriteAllText((Join-Path $dir 'alignment.jsonl'), $align + "`n")
        [IO.File]::WriteAllText((Join-Path $dir 'events.jsonl'), (ConvertTo-JsonLine @{ step = 0; time = '2026-01-01T00:00:00Z'; kind = 'Started'; code = 'Started'; severity = 'Info'; message = 'started' }) + "`n")
        $state = [ordered]@{ name = $Name; status = $Status; pid = $EnginePid; host = [Environment]::MachineName; started = '2026-01-01T00:00:00Z'
            updated = [datetimeoffset]::UtcNow.ToString('o'); step = 4; device = 'cpu' }
        [IO.File]::WriteAllText((Join-Path $dir 'run.json'), ($state | ConvertTo-Json))

        $entries = foreach ($s in 100, 200, 300) {
            $file = Join-Path $dir ('checkpoints/step-{0:D6}.ckpt' -f $s)
            [IO.File]::WriteAllBytes($file, [byte[]](1..64 | ForEach-Object { ($_ * $s) % 256 }))
            [ordered]@{ file = Split-Path -Leaf $file; step = $s; sha256 = (Get-FileHash $file -Algorithm SHA256).Hash.ToLowerInvariant()
                size_bytes = 64; created = '2026-01-01T00:00:00Z'; config_hash = 'abc'; loss = 1.0 / $s; diagonality = $s / 400.0
                gate_accuracy = 0.8; good = $true; well_aligned = ($s -ge 200); best = ($s -eq 300) }
        }
        [IO.File]::WriteAllText((Join-Path $dir 'checkpoints/manifest.json'), (@{ version = 1; well_aligned_threshold = 0.5; checkpoints = @($entries) } | ConvertTo-Json -Depth 5))
        # Tamper: same size, one byte changed.
        $newest = Join-Path $dir 'checkpoints/step-000300.ckpt'
        $bytes = [IO.File]::ReadAllBytes($newest); $bytes[10] = $bytes[10] -bxor 0xFF; [IO.File]::WriteAllBytes($newest, $bytes)
        $dir
    }
}

Describe 'Get-TrainingMetrics' {
    BeforeAll {
        $root = Join-Path $TestDrive 'runs'
        $run = New-TestRun -Root $root
    }

    It 'streams StepMetrics and skips a torn last line' {
        $m = @(Get-TrainingMetrics -Run voice -RunsRoot $root)
        $m.Count | Should -Be 5
        $m[0].PSObject.TypeNames[0] | Should -Be 'TacotronRecovery.Core.Metrics.StepMetrics'
        $m.Step | Should -Be @(1, 2, 3, 4, 5)
        $m[1].Loss | Should -Be 5
        $m[0].Run | Should -Be 'voice'
    }

    It 'reports the torn line only in the verbose stream' {
        $out = Get-TrainingMetrics -Run voice -RunsRoot $root -Verbose -WarningVariable w 4>&1
        $w | Should -BeNullOrEmpty
        ($out | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }).Message | Should -Match 'torn last line'
    }

    It 'returns the last N with -Last and steps from -Since' {
        (Get-TrainingMetrics -Run voice -RunsRoot $root -Last 2).Step | Should -Be @(4, 5)
        (Get-TrainingMetrics -Run voice -RunsRoot $root -Since 3).Step | Should -Be @(3, 4, 5)
    }

    It 'reads alignment metrics, events, and all three merged by time' {
        (Get-TrainingMetrics -Run voice -RunsRoot $root -Kind Alignment).Diagonality | Should -Be @(0.25, 0.75)
        (Get-TrainingMetrics -Run voice -RunsRoot $root -Kind Event).Code | Should -Be 'Started'
        $all = Get-TrainingMetrics -Run voice -RunsRoot $root -Kind All
        $all.Count | Should -Be 8
        $all[0].GetType().Name | Should -Be 'TrainingEvent'
        $all[3].GetType().Name | Should -Be 'AlignmentMetrics'
    }

    It 'accepts a run directory path and a run name from the pipeline' {
        (Get-TrainingMetrics -Run $run -Last 1).Step | Should -Be 5
        ('voice' | Get-TrainingMetrics -RunsRoot $root -Last 1).Step | Should -Be 5
    }

    It 'warns naming the file and line when a line in the middle is invalid' {
        $bad = Join-Path $root 'bad'
        New-Item -ItemType Directory -Force $bad | Out-Null
        [IO.File]::WriteAllText((Join-Path $bad 'metrics.jsonl'), (Get-StepLine 1) + "`nnot json at all`n" + (Get-StepLine 3) + "`n")
        $m = Get-TrainingMetrics -Run bad -RunsRoot $root -WarningVariable w -WarningAction SilentlyContinue
        $m.Step | Should -Be @(1, 3)
        $w.Count | Should -Be 1
        $w[0].Message | Should -Match 'metrics\.jsonl.*skipped 1 unreadable line.*line 2'
    }

    It 'writes RunNotFound listing nearby run names for an unknown run' {
        Get-TrainingMetrics -Run voise -RunsRoot $root -ErrorVariable e -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $e[0].FullyQualifiedErrorId | Should -BeLike 'RunNotFound,*'
        $e[0].Exception.Message | Should -Match 'Did you mean: voice'
    }

    It 'ends -Follow after the lines written until the run stopped' {
        $live = New-TestRun -Root $root -Name 'live' -EnginePid $PID
        $job = Start-Job -ScriptBlock {
            param($dir, $line)
            Start-Sleep -Milliseconds 1500
            [IO.File]::AppendAllText((Join-Path $dir 'metrics.jsonl'), "`n" + $line + "`n")  # completes the torn line's row, then step 7
            Start-Sleep -Milliseconds 500
            $s = Get-Content -Raw (Join-Path $dir 'run.json') | ConvertFrom-Json
            $s.status = 'Stopped'
            [IO.File]::WriteAllText((Join-Path $dir 'run.json'), ($s | ConvertTo-Json))
        } -ArgumentList $live, (Get-StepLine 7)
        try {
            $sw = [Diagnostics.Stopwatch]::StartNew()
            $m = Get-TrainingMetrics -Run live -RunsRoot $root -Follow -PollMilliseconds 50 -WarningAction SilentlyContinue
            $sw.Stop()
            $m.Step | Should -Be @(1, 2, 3, 4, 5, 7)
            $sw.Elapsed.TotalSeconds | Should -BeLessThan 30
        } finally {
            $job | Wait-Job -Timeout 30 | Remove-Job -Force
        }
    }

    It 'ends -Follow on Ctrl+C (StopProcessing) while the run keeps running' {
        New-TestRun -Root $root -Name 'endless' -EnginePid $PID | Out-Null
        $ps = [powershell]::Create()
        $ps.AddCommand('Import-Module').AddParameter('Name', $env:TACOTRON_MODULE_PATH).AddStatement().
            AddCommand('Get-TrainingMetrics').AddParameter('Run', 'endless').AddParameter('RunsRoot', $root).
            AddParameter('Follow').AddParameter('PollMilliseconds', 50).AddParameter('WarningAction', 'SilentlyContinue') | Out-Null
        $out = [System.Management.Automation.PSDataCollection[psobject]]::new()
        $handle = $ps.BeginInvoke([System.Management.Automation.PSDataCollection[psobject]]$null, $out)
        $deadline = [datetime]::UtcNow.AddSeconds(20)
        while ($out.Count -lt 5 -and [datetime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 }
        $out.Count | Should -Be 5
        $handle.IsCompleted | Should -BeFalse   # still following: the engine (this process) is alive
        $sw = [Diagnostics.Stopwatch]::StartNew()
        $ps.Stop()
        $sw.Stop()
        $sw.Elapsed.TotalSeconds | Should -BeLessThan 5
        $ps.InvocationStateInfo.State | Should -Be 'Stopped'
        $ps.Dispose()
    }

    It 'ends -Follow at once for a run whose engine is gone' {
        (Get-TrainingMetrics -Run voice -RunsRoot $root -Follow -PollMilliseconds 50).Count | Should -Be 5
    }
}

Describe 'Get-TacotronRun' {
    BeforeAll {
        $root = Join-Path $TestDrive 'runs'
        $run = New-TestRun -Root $root
        $deadPid = (Get-Content -Raw (Join-Path $run 'run.json') | ConvertFrom-Json).pid
    }

    It 'reports a Running run with a dead engine pid as failed' {
        $r = Get-TacotronRun -Run voice -RunsRoot $root
        $r.PSObject.TypeNames[0] | Should -Be 'TacotronRecovery.Commands.TacotronRunInfo'
        $r.Status | Should -Be 'Failed (engine not running)'
        $r.Pid | Should -Be $deadPid
        $r.Step | Should -Be 5
        $r.LastLoss | Should -Be 2
        $r.LastDiagonality | Should -Be 0.75
        $r.Checkpoints | Should -Be 3
        $r.Path | Should -Be $run
    }

    It 'reports Running when the engine pid is alive' {
        New-TestRun -Root $root -Name 'alive' -EnginePid $PID | Out-Null
        (Get-TacotronRun -Run alive -RunsRoot $root).Status | Should -Be 'Running'
    }

    It 'lists every run under the root without -Run, and shows a table' {
        New-TestRun -Root $root -Name 'other' -Status 'Completed' | Out-Null
        $all = Get-TacotronRun -RunsRoot $root
        $all.Run | Should -Contain 'voice'
        ($all | Where-Object Run -eq 'other').Status | Should -Be 'Completed'
        ($all | Format-Table | Out-String) | Should -Match 'Ckpts'
    }

    It 'finds ./runs when the current location is on a PowerShell drive' {
        $saved = $env:TACOTRON_RUNS
        $env:TACOTRON_RUNS = $null
        New-PSDrive -Name TRDRIVE -PSProvider FileSystem -Root $TestDrive | Out-Null
        Push-Location TRDRIVE:/
        try {
            (Get-TacotronRun -Run voice).Path | Should -Be $run
            (Test-LossHealth -Run voice).Run | Should -Be 'voice'
        }
        finally {
            Pop-Location
            Remove-PSDrive TRDRIVE
            $env:TACOTRON_RUNS = $saved
        }
    }

    It 'writes RunStateCorrupt for a corrupt run.json and still lists the other runs' {
        $broken = New-TestRun -Root $root -Name 'broken'
        [IO.File]::WriteAllText((Join-Path $broken 'run.json'), '{"name": "broken", "status":')
        $all = Get-TacotronRun -RunsRoot $root -ErrorVariable e -ErrorAction SilentlyContinue
        $all.Run | Should -Contain 'voice'
        $all.Run | Should -Not -Contain 'broken'
        $e[0].FullyQualifiedErrorId | Should -BeLike 'RunStateCorrupt,*'
        $e[0].Exception.Message | Should -Match ([regex]::Escape((Join-Path $broken 'run.json')))
    }
}

Describe 'Get-TacotronCheckpoint' {
    BeforeAll {
        $root = Join-Path $TestDrive 'runs'
        $run = New-TestRun -Root $root
    }

    It 'lists the manifest entries with their health at save' {
        $c = Get-TacotronCheckpoint -Run voice -RunsRoot $root
        $c[0].PSObject.TypeNames[0] | Should -Be 'TacotronRecovery.Commands.CheckpointInfo'
        $c.Step | Should -Be @(100, 200, 300)
        $c.Verified | Should -Be @('NotChecked', 'NotChecked', 'NotChecked')
        $c.WellAligned | Should -Be @($false, $true, $true)
        ($c | Where-Object Best).Step | Should -Be 300
        $c[0].Path | Should -Be (Join-Path $run 'checkpoints/step-000100.ckpt')
        ($c | Format-Table | Out-String) | Should -Match 'WellAligned'
    }

    It 'flags the tampered file as HashMismatch with -Verify' {
        $c = Get-TacotronCheckpoint -Run voice -RunsRoot $root -Verify -WarningVariable w -WarningAction SilentlyContinue
        $c.Verified | Should -Be @('Verified', 'Verified', 'HashMismatch')
        $w.Count | Should -Be 1
        $w[0].Message | Should -Match 'step-000300\.ckpt.*must not be loaded'
    }

    It 'falls back past a tampered newest checkpoint with -Good -Latest -Verify' {
        $c = Get-TacotronCheckpoint -Run voice -RunsRoot $root -Good -Latest -Verify -WarningVariable w -WarningAction SilentlyContinue
        $c.Step | Should -Be 200
        $c.Verified | Should -Be 'Verified'
        $w[0].Message | Should -Match 'step-000300'
        (Get-TacotronCheckpoint -Run voice -RunsRoot $root -Latest).Step | Should -Be 300
    }

    It 'takes the run from Get-TacotronRun through the pipeline' {
        (Get-TacotronRun -Run voice -RunsRoot $root | Get-TacotronCheckpoint -RunsRoot $root -Good).Count | Should -Be 3
    }

    It 'writes ManifestCorrupt naming the manifest when it is unreadable' {
        $bad = New-TestRun -Root $root -Name 'badmanifest'
        [IO.File]::WriteAllText((Join-Path $bad 'checkpoints/manifest.json'), '{ "version": 1, "checkpoints": [')
        Get-TacotronCheckpoint -Run badmanifest -RunsRoot $root -ErrorVariable e -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $e[0].FullyQualifiedErrorId | Should -BeLike 'ManifestCorrupt,*'
        $e[0].TargetObject | Should -Be (Join-Path $bad 'checkpoints/manifest.json')
    }
}
