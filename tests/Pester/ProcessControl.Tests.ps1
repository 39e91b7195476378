# Process control of runs: -Force stops a frozen run for good, -Detached leaves the caller's pipes and process group,
# a crash loop escalates and ends in one Exhausted with an alert. Linux only (signals, /proc, setsid).
# Every process these tests signal was started by them (pids from the run's lock files, or a group made with setsid);
# every wait is bounded. Signals go through `/usr/bin/kill -s SIG -- PID` (procps reads `kill -INT -PGID` as options
# and signals nothing).

BeforeAll {
    Import-Module $env:TACOTRON_MODULE_PATH -Force
    . (Join-Path $PSScriptRoot 'TinyRun.ps1')

    function Wait-Until([scriptblock] $Condition, [int] $Seconds = 90) {
        $deadline = (Get-Date).AddSeconds($Seconds)
        while ((Get-Date) -lt $deadline) {
            if (& $Condition) { return $true }
            Start-Sleep -Milliseconds 200
        }
        return [bool](& $Condition)
    }

    function Get-StepCount([string] $RunDir) {
        $m = Join-Path $RunDir 'metrics.jsonl'
        if (Test-Path $m) { @(Get-Content $m).Count } else { 0 }
    }

    function Get-LockPid([string] $File) {
        if (Test-Path $File) { (Get-Content $File -Raw | ConvertFrom-Json).pid } else { $null }
    }

    function Test-Alive([int] $ProcessId) {
        $stat = "/proc/$ProcessId/stat"
        if (-not (Test-Path $stat)) { return $false }
        $text = Get-Content $stat -Raw -ErrorAction SilentlyContinue
        if (-not $text) { return $false }
        $state = $text.Substring($text.LastIndexOf(')') + 2, 1)
        return $state -notin 'Z', 'X'
    }

    # Live processes whose command line mentions the run folder (zombies have an empty cmdline).
    function Get-RunProcess([string] $RunDir) {
        foreach ($d in Get-ChildItem /proc -Directory -ErrorAction SilentlyContinue | Where-Object Name -match '^\d+$') {
            try { $cmd = [System.IO.File]::ReadAllText("$($d.FullName)/cmdline") } catch { continue }
            if ($cmd.Replace([char]0, ' ').Contains($RunDir) -and (Test-Alive ([int]$d.Name))) { [int]$d.Name }
        }
    }

    # Kills what is left of a run these tests started (by the pids recorded in its own folder, and its /proc matches).
    function Stop-RunProcess([string] $RunDir) {
        $pids = @((Get-LockPid (Join-Path $RunDir 'supervisor.lock')), (Get-LockPid (Join-Path $RunDir 'engine.lock'))) + @(Get-RunProcess $RunDir)
        foreach ($p in $pids | Where-Object { $_ } | Sort-Object -Unique) {
            & /usr/bin/kill -s CONT -- $p 2>$null
            & /usr/bin/kill -s KILL -- $p 2>$null
        }
    }

    # Starts a tiny detached run that trains until stopped and waits until it has taken 3 steps; returns its runs root,
    # config, supervisor and engine pids (from their lock files). $script:RunDir is set for AfterEach.
    function Start-DetachedTinyRun([string] $Name) {
        $runs = Join-Path $TestDrive 'runs'
        $script:RunDir = Join-Path $runs $Name
        $config = New-TinyConfig (Join-Path $TestDrive "$Name.yaml") -MaxSteps 100000 -TensorBoard $false
        Start-TacotronTraining -Config $config -RunsRoot $runs -Run $Name -Detached | Out-Null
        Wait-Until { (Get-StepCount $script:RunDir) -ge 3 } | Should -BeTrue
        $r = [pscustomobject]@{
            Runs = $runs; Config = $config
            Supervisor = Get-LockPid (Join-Path $script:RunDir 'supervisor.lock')
            Engine = Get-LockPid (Join-Path $script:RunDir 'engine.lock')
        }
        $r.Supervisor | Should -Not -BeNullOrEmpty
        $r.Engine | Should -Not -BeNullOrEmpty
        $r
    }

    $script:Pwsh = Join-Path $PSHOME 'pwsh'
    $script:Module = $env:TACOTRON_MODULE_PATH
}

Describe 'Process control' -Skip:(-not $IsLinux) {
    AfterEach {
        if ($script:RunDir) { Stop-RunProcess $script:RunDir }
        if ($script:Group) { & /usr/bin/kill -s KILL -- "-$($script:Group)" 2>$null; $script:Group = $null }
    }

    It 'Stop-TacotronTraining -Force ends a frozen run for good: no process left, status Killed, no restart' {
        $run = Start-DetachedTinyRun 'frozen'
        $runs, $supervisor, $engine = $run.Runs, $run.Supervisor, $run.Engine
        & /usr/bin/kill -s STOP -- $engine
        $stopAt = [DateTimeOffset]::UtcNow
        $final = Stop-TacotronTraining -Run frozen -RunsRoot $runs -Force -TimeoutSeconds 5 -PassThru -WarningVariable warn -WarningAction SilentlyContinue
        "$warn" | Should -BeLike '*killed supervisor pid*engine pid*'
        $final.Status | Should -Be 'Killed'
        (Get-Content (Join-Path $RunDir 'run.json') -Raw | ConvertFrom-Json).status | Should -Be 'Killed'
        Start-Sleep -Seconds 3 # a supervisor that survived would have restarted the engine by now
        Test-Alive $supervisor | Should -BeFalse
        Test-Alive $engine | Should -BeFalse
        @(Get-RunProcess $RunDir) | Should -BeNullOrEmpty
        $after = Get-Content (Join-Path $RunDir 'events.jsonl') | ConvertFrom-Json | Where-Object { [DateTimeOffset]$_.time -ge $stopAt }
        $after.code | Should -Not -Contain 'Restart'
        $after.code | Should -Not -Contain 'TrainingStarted'
        $after.code | Should -Contain 'TrainingKilled'
        Test-Path (Join-Path $RunDir 'stop.request') | Should -BeFalse
    }

    It 'an engine whose supervisor was killed -9 stops by itself with a checkpoint, and -Resume continues the run' {
        $run = Start-DetachedTinyRun 'orphan'
        $runs, $config, $supervisor, $engine = $run.Runs, $run.Config, $run.Supervisor, $run.Engine
        & /usr/bin/kill -s KILL -- $supervisor
        Wait-Until { -not (Test-Alive $engine) } 60 | Should -BeTrue -Because 'the orphaned engine stops itself'
        (Get-Content (Join-Path $RunDir 'run.json') -Raw | ConvertFrom-Json).status | Should -Be 'Stopped'
        Get-Content (Join-Path $RunDir 'logs/supervisor.log') -Raw | Should -BeLike "*engine pid ${engine}: The supervisor (pid $supervisor) is gone; stopping with a checkpoint.*"
        $steps = Get-StepCount $RunDir
        Start-TacotronTraining -Config $config -RunsRoot $runs -Run orphan -Resume -Detached | Out-Null
        Wait-Until { (Get-StepCount $RunDir) -ge $steps + 3 } | Should -BeTrue -Because 'the run resumes (no stale lock)'
        Stop-TacotronTraining -Run orphan -RunsRoot $runs -TimeoutSeconds 60 | Out-Null
    }

    It 'a capturing caller returns at once while the detached engine trains on, its output in logs/' {
        $runs = Join-Path $TestDrive 'runs'
        $script:RunDir = Join-Path $runs 'captured'
        $config = New-TinyConfig (Join-Path $TestDrive 'captured.yaml') -MaxSteps 100000 -TensorBoard $false
        $returned = Join-Path $TestDrive 'returned.txt'
        # The command notes when Start-TacotronTraining has returned; the caller's $(...) must end right after that
        # (it used to wait for the run, because supervisor and engine held the pipe).
        $command = "Import-Module '$Module'; Start-TacotronTraining -Config '$config' -RunsRoot '$runs' -Run captured -Detached | Out-Null; [DateTimeOffset]::UtcNow.ToUnixTimeMilliseconds() | Set-Content '$returned'"
        $env:PROC_TEST_PWSH = $Pwsh
        $env:PROC_TEST_COMMAND = $command
        $out = & bash -c 'x=$(timeout 300 "$PROC_TEST_PWSH" -NoProfile -Command "$PROC_TEST_COMMAND"); echo "done:$x"'
        $callerDone = [DateTimeOffset]::UtcNow.ToUnixTimeMilliseconds()
        $out | Should -Be 'done:'
        $cmdletDone = [long](Get-Content $returned)
        ($callerDone - $cmdletDone) / 1000 | Should -BeLessThan 10
        Test-Alive (Get-LockPid (Join-Path $RunDir 'engine.lock')) | Should -BeTrue
        Wait-Until { (Get-StepCount $RunDir) -ge 2 } | Should -BeTrue
        $before = Get-StepCount $RunDir
        Wait-Until { (Get-StepCount $RunDir) -gt $before + 2 } -Seconds 60 | Should -BeTrue
        Test-Path (Join-Path $RunDir 'logs/supervisor.log') | Should -BeTrue
        Test-Path (Join-Path $RunDir 'logs/engine-1.stderr.log') | Should -BeTrue
        (Stop-TacotronTraining -Run captured -RunsRoot $runs -TimeoutSeconds 60 -PassThru).Status | Should -Be 'Stopped'
    }

    It 'SIGINT and SIGHUP to the starting shell''s process group leave the detached engine running' {
        $runs = Join-Path $TestDrive 'runs'
        $script:RunDir = Join-Path $runs 'signalled'
        $config = New-TinyConfig (Join-Path $TestDrive 'signalled.yaml') -MaxSteps 100000 -TensorBoard $false
        $returned = Join-Path $TestDrive 'signalled-returned.txt'
        $command = "Import-Module '$Module'; Start-TacotronTraining -Config '$config' -RunsRoot '$runs' -Run signalled -Detached | Out-Null"
        # setsid: the shell leads a new process group (its pid), which this test may signal without touching its own.
        # env --default-signal: a test runner started in the background inherits SIGINT ignored; a terminal does not.
        $psi = [System.Diagnostics.ProcessStartInfo]::new('/usr/bin/setsid')
        foreach ($a in '/usr/bin/env', '--default-signal=INT,HUP', 'bash', '-c', '"$0" -NoProfile -Command "$1"; echo > "$2"; sleep 60', $Pwsh, $command, $returned) { $psi.ArgumentList.Add($a) }
        $psi.RedirectStandardOutput = $true
        $psi.RedirectStandardError = $true
        $shell = [System.Diagnostics.Process]::Start($psi)
        $script:Group = $shell.Id
        Wait-Until { Test-Path $returned } -Seconds 180 | Should -BeTrue
        Wait-Until { (Get-StepCount $RunDir) -ge 3 } | Should -BeTrue
        $engine = Get-LockPid (Join-Path $RunDir 'engine.lock')
        $supervisor = Get-LockPid (Join-Path $RunDir 'supervisor.lock')
        & /usr/bin/kill -s INT -- "-$($shell.Id)"
        & /usr/bin/kill -s HUP -- "-$($shell.Id)"
        $shell.WaitForExit(20000) | Should -BeTrue # the shell itself died of them
        $script:Group = $null
        $before = Get-StepCount $RunDir
        Wait-Until { (Get-StepCount $RunDir) -gt $before + 2 } -Seconds 60 | Should -BeTrue
        Test-Alive $engine | Should -BeTrue
        Test-Alive $supervisor | Should -BeTrue
        (Stop-TacotronTraining -Run signalled -RunsRoot $runs -TimeoutSeconds 60 -PassThru).Status | Should -Be 'Stopped'
        Test-Alive $supervisor | Should -BeFalse
    }

    It 'Ctrl+C on a foreground Start-TacotronTraining stops it gracefully with a checkpoint' {
        $runs = Join-Path $TestDrive 'runs'
        $script:RunDir = Join-Path $runs 'foreground'
        $config = New-TinyConfig (Join-Path $TestDrive 'foreground.yaml') -MaxSteps 100000 -TensorBoard $false
        $command = "Import-Module '$Module'; Start-TacotronTraining -Config '$config' -RunsRoot '$runs' -Run foreground | Out-Null"
        # A terminal's Ctrl+C is SIGINT to the foreground process group: pwsh, supervisor and engine.
        $psi = [System.Diagnostics.ProcessStartInfo]::new('/usr/bin/setsid')
        foreach ($a in '/usr/bin/env', '--default-signal=INT', $Pwsh, '-NoProfile', '-Command', $command) { $psi.ArgumentList.Add($a) }
        $psi.RedirectStandardOutput = $true
        $psi.RedirectStandardError = $true
        $shell = [System.Diagnostics.Process]::Start($psi)
        $script:Group = $shell.Id
        Wait-Until { (Get-StepCount $RunDir) -ge 3 } | Should -BeTrue
        & /usr/bin/kill -s INT -- "-$($shell.Id)"
        $shell.WaitForExit(120000) | Should -BeTrue
        $script:Group = $null
        Wait-Until { -not (Get-RunProcess $RunDir) } -Seconds 60 | Should -BeTrue
        $state = Get-Content (Join-Path $RunDir 'run.json') -Raw | ConvertFrom-Json
        $state.status | Should -Be 'Stopped'
        (Get-TacotronCheckpoint -Run foreground -RunsRoot $runs -Latest).Step | Should -Be $state.step
    }

    It 'a crash loop escalates one level per death and ends in one Exhausted with an alert and the stderr tail' {
        $runs = Join-Path $TestDrive 'runs'
        $script:RunDir = Join-Path $runs 'loop'
        $extra = "recovery:`n  max_restarts: 2`nfaults:`n  kill_at_step: 5`n  kill_every_time: true"
        $config = New-TinyConfig (Join-Path $TestDrive 'loop.yaml') -MaxSteps 50 -TensorBoard $false -Extra $extra
        $out = Start-TacotronTraining -Config $config -RunsRoot $runs -Run loop -ErrorVariable err -ErrorAction SilentlyContinue -WarningAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'RecoveryExhausted*'
        ($out | Select-Object -Last 1).Status | Should -Be 'Failed'
        $events = Get-Content (Join-Path $RunDir 'events.jsonl') | ConvertFrom-Json
        $restarts = @($events | Where-Object code -eq 'Restart')
        $restarts.Count | Should -Be 2
        $restarts.data.safe_mode_level | Should -Be 1, 2
        $restarts[0].message | Should -BeLike '*restart 1 of 2*Resuming from step-000000.ckpt (step 0)*'
        $exhausted = @($events | Where-Object code -eq 'Exhausted')
        $exhausted.Count | Should -Be 1
        $exhausted[0].data.exit_code | Should -Be 134
        ($exhausted[0].data.stderr_tail -join "`n") | Should -BeLike '*fault injection: engine killed at step 5*'
        $events.code | Should -Not -Contain 'EngineRestart'
        $events.code | Should -Not -Contain 'RestartBudgetSpent'
        $state = Get-Content (Join-Path $RunDir 'recovery-state.json') -Raw | ConvertFrom-Json
        $state.restarts | Should -Be 2
        $state.exhausted | Should -BeTrue
        (Get-Content (Join-Path $RunDir 'run.json') -Raw | ConvertFrom-Json).exit_code | Should -Be 3
        $alerts = Get-ChildItem (Join-Path $RunDir 'outbox') -Filter *.json | ForEach-Object { (Get-Content $_.FullName -Raw | ConvertFrom-Json).alert }
        $critical = @($alerts | Where-Object { $_.title -like '*Recovery exhausted*' })
        $critical.Count | Should -Be 1
        ($critical[0].lines -join "`n") | Should -BeLike '*stderr: *fault injection*'
        @($alerts | Where-Object kind -eq 'Restart').Count | Should -Be 2
    }
}
