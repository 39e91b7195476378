BeforeAll {
    Import-Module $env:TACOTRON_MODULE_PATH -Force
    $script:Watchdog = (Resolve-Path (Join-Path $PSScriptRoot '../../examples/watchdog.ps1')).Path
    $script:Fixtures = Join-Path $PSScriptRoot 'fixtures/runs'

    # A fresh copy of the recorded runs for each test (the watchdog writes watchdog.json into them).
    function Copy-RecordedRuns {
        $root = Join-Path $TestDrive ("runs-" + [guid]::NewGuid().ToString('N').Substring(0, 8))
        New-Item -ItemType Directory -Path $root | Out-Null
        Copy-Item -Path (Join-Path $Fixtures '*') -Destination $root -Recurse
        $root
    }

    # Marks a recorded run as being trained right now by a live process (this test process).
    function Set-RunAlive([string] $RunPath) {
        $file = Join-Path $RunPath 'run.json'
        $state = Get-Content $file -Raw | ConvertFrom-Json -AsHashtable
        $state.status = 'Running'; $state.pid = $PID; $state.host = [Environment]::MachineName
        $state.updated = [datetimeoffset]::UtcNow.ToString('o')
        $state | ConvertTo-Json | Set-Content $file
    }

    function Read-State([string] $RunPath) { Get-Content (Join-Path $RunPath 'watchdog.json') -Raw | ConvertFrom-Json -AsHashtable }
}

Describe 'watchdog.ps1 decisions on recorded runs' {
    BeforeEach {
        $script:Root = Copy-RecordedRuns
        Mock Send-TrainingAlert { }
        Mock Invoke-EmergencyRecovery { [pscustomobject]@{ Run = 'x'; Outcome = 'Recovered'; Steps = 420 } }
    }

    It 'does nothing for a healthy run and exits 0' {
        $d = & $Watchdog -Run healthy -RunsRoot $Root
        $LASTEXITCODE | Should -Be 0
        $d.Status | Should -Be 'Healthy'
        $d.Action | Should -Be 'None'
        $d.PSObject.TypeNames[0] | Should -Be 'TacotronRecovery.WatchdogDecision'
        Should -Invoke Send-TrainingAlert -Times 0 -Exactly
        Should -Invoke Invoke-EmergencyRecovery -Times 0 -Exactly
        (Read-State (Join-Path $Root 'healthy')).last_action | Should -Be 'None'
    }

    It 'sends a Warning alert for a single gradient explosion and exits 2' {
        $d = & $Watchdog -Run warning -RunsRoot $Root
        $LASTEXITCODE | Should -Be 2
        $d.Action | Should -Be 'Alert'
        $d.Reason | Should -BeLike '*GradientExplosion*'
        $d.AlertSent | Should -BeTrue
        Should -Invoke Send-TrainingAlert -Times 1 -Exactly -ParameterFilter { $Severity -eq 'Warning' -and $Run -like '*warning' }
        Should -Invoke Invoke-EmergencyRecovery -Times 0 -Exactly
    }

    It 'only alerts for a NaN storm while the engine is still running and recovering by itself (exit 3)' {
        Set-RunAlive (Join-Path $Root 'nan-running')
        $d = & $Watchdog -Run nan-running -RunsRoot $Root
        $LASTEXITCODE | Should -Be 3
        $d.Status | Should -Be 'Critical'
        $d.Action | Should -Be 'Alert'
        $d.EngineRunning | Should -BeTrue
        $d.Findings.Code | Should -Contain 'NonFiniteLoss'
        Should -Invoke Send-TrainingAlert -Times 1 -Exactly -ParameterFilter { $Severity -eq 'Critical' }
        Should -Invoke Invoke-EmergencyRecovery -Times 0 -Exactly
    }

    It 'does not repeat the same alert within -RepeatAlertMinutes' {
        Set-RunAlive (Join-Path $Root 'nan-running')
        & $Watchdog -Run nan-running -RunsRoot $Root | Out-Null
        $second = & $Watchdog -Run nan-running -RunsRoot $Root
        $second.AlertSent | Should -BeFalse
        $LASTEXITCODE | Should -Be 3
        Should -Invoke Send-TrainingAlert -Times 1 -Exactly
        & $Watchdog -Run nan-running -RunsRoot $Root -RepeatAlertMinutes 0 | Out-Null
        Should -Invoke Send-TrainingAlert -Times 2 -Exactly
    }

    It 'recovers a collapsed run whose engine stopped, with -Notify, and records the attempt (exit 4)' {
        $d = & $Watchdog -Run collapsed-stopped -RunsRoot $Root -Notify -RecoverySteps 1500
        $LASTEXITCODE | Should -Be 4
        $d.Action | Should -Be 'Recover'
        $d.Findings.Code | Should -Contain 'AttentionCollapse'
        $d.Reason | Should -BeLike '*not running (status Stopped)*'
        $d.Outcome | Should -Be 'Recovered'
        Should -Invoke Invoke-EmergencyRecovery -Times 1 -Exactly -ParameterFilter { $Notify -and $MaxSteps -eq 1500 -and $Run -like '*collapsed-stopped' }
        $state = Read-State (Join-Path $Root 'collapsed-stopped')
        $state.consecutive_recoveries | Should -Be 1
        $state.recoveries[-1].outcome | Should -Be 'Recovered'
    }

    It 'recovers an exhausted run and says so' {
        $d = & $Watchdog -Run exhausted -RunsRoot $Root
        $LASTEXITCODE | Should -Be 4
        $d.Action | Should -Be 'Recover'
        $d.Reason | Should -BeLike '*recovery is exhausted (status Failed)*'
        Should -Invoke Invoke-EmergencyRecovery -Times 1 -Exactly -ParameterFilter { -not $Notify }
    }

    It 'exits 5 and alerts when the recovery fails, and counts the attempt' {
        Mock Invoke-EmergencyRecovery { [pscustomobject]@{ Outcome = 'Failed'; Steps = 3000 } }
        $d = & $Watchdog -Run exhausted -RunsRoot $Root
        $LASTEXITCODE | Should -Be 5
        $d.Outcome | Should -Be 'Failed'
        Should -Invoke Send-TrainingAlert -Times 1 -Exactly -ParameterFilter { $Severity -eq 'Critical' }
        (Read-State (Join-Path $Root 'exhausted')).consecutive_recoveries | Should -Be 1
    }

    It 'skips recovery when the cap is reached, alerts Critical, and exits 6' {
        $d = & $Watchdog -Run cap-reached -RunsRoot $Root -MaxRecoveries 3
        $LASTEXITCODE | Should -Be 6
        $d.Action | Should -Be 'Skipped'
        $d.Reason | Should -BeLike '*3 emergency recoveries*cap 3*'
        Should -Invoke Invoke-EmergencyRecovery -Times 0 -Exactly
        Should -Invoke Send-TrainingAlert -Times 1 -Exactly -ParameterFilter { $Severity -eq 'Critical' }
        (Read-State (Join-Path $Root 'cap-reached')).consecutive_recoveries | Should -Be 3
    }

    It 'recovers the capped run again with a higher -MaxRecoveries' {
        $d = & $Watchdog -Run cap-reached -RunsRoot $Root -MaxRecoveries 4
        $d.Action | Should -Be 'Recover'
        $d.Reason | Should -BeLike '*the last emergency recovery ended Failed*'
        (Read-State (Join-Path $Root 'cap-reached')).consecutive_recoveries | Should -Be 4
    }

    It 'checks every run under -RunsRoot and exits with the highest code' {
        Set-RunAlive (Join-Path $Root 'nan-running')
        $all = & $Watchdog -RunsRoot $Root
        $LASTEXITCODE | Should -Be 6
        $byRun = @{}; $all | ForEach-Object { $byRun[$_.Run] = $_.Action }
        $byRun['healthy'] | Should -Be 'None'
        $byRun['warning'] | Should -Be 'Alert'
        $byRun['nan-running'] | Should -Be 'Alert'
        $byRun['collapsed-stopped'] | Should -Be 'Recover'
        $byRun['exhausted'] | Should -Be 'Recover'
        $byRun['cap-reached'] | Should -Be 'Skipped'
        Should -Invoke Invoke-EmergencyRecovery -Times 2 -Exactly
    }

    It 'exits 1 for an unknown run' {
        & $Watchdog -Run nosuchrun -RunsRoot $Root 2>$null
        $LASTEXITCODE | Should -Be 1
    }
}

Describe 'watchdog.ps1 -WhatIf' {
    It 'shows the recovery plan of the real Invoke-EmergencyRecovery and writes nothing' {
        $root = Copy-RecordedRuns
        $run = Join-Path $root 'collapsed-stopped'
        $before = Get-ChildItem $run -Recurse | ForEach-Object Name
        $d = & $Watchdog -Run collapsed-stopped -RunsRoot $root -WhatIf
        $LASTEXITCODE | Should -Be 4
        $d.Action | Should -Be 'Recover'
        $d.Outcome | Should -Be 'WhatIf'
        $d.Plan.Stages.Count | Should -BeGreaterOrEqual 3
        Join-Path $run 'watchdog.json' | Should -Not -Exist
        (Get-ChildItem $run -Recurse | ForEach-Object Name) | Should -Be $before
    }
}

Describe 'Get-WatchdogDecision' {
    BeforeAll {
        . $Watchdog
        function New-Report([string] $Status, [string[]] $Codes) {
            [pscustomobject]@{ Status = $Status; FirstStep = 1; LastStep = 500
                Findings = @($Codes | ForEach-Object { [pscustomobject]@{ Code = $_; Severity = $Status } }) }
        }
    }

    It 'recovers a running engine whose recovery controller is disabled' {
        $d = Get-WatchdogDecision -Run r -Report (New-Report Critical NonFiniteLoss) -RunStatus Running -RecoveryEnabled $false
        $d.Action | Should -Be 'Recover'
        $d.ExitCode | Should -Be 4
        $d.Reason | Should -BeLike '*running (Running) with its recovery disabled*'
    }

    It 'treats an engine reported on another host as running' {
        (Get-WatchdogDecision -Run r -Report (New-Report Critical AttentionCollapse) -RunStatus 'Recovering on gpu7').Action | Should -Be 'Alert'
    }

    It 'recovers a run whose engine died while it was running' {
        $d = Get-WatchdogDecision -Run r -Report (New-Report Critical FrequentSkips) -RunStatus 'Failed (engine not running)'
        $d.Action | Should -Be 'Recover'
        $d.Reason | Should -BeLike '*not running (status Failed (engine not running))*1 of 3*'
    }

    It 'keeps its hands off a held run' {
        $d = Get-WatchdogDecision -Run r -Report (New-Report Critical NonFiniteLoss) -RunStatus Stopped -State @{ hold = $true }
        $d.Action | Should -Be 'Skipped'
        $d.ExitCode | Should -Be 6
    }

    It 'has nothing to judge without metrics' {
        $d = Get-WatchdogDecision -Run r -Report $null -RunStatus Running
        $d.Status | Should -Be 'Unknown'
        $d.Action | Should -Be 'None'
        $d.ExitCode | Should -Be 0
    }

    It 'names only the findings of the reported severity in the reason' {
        $report = [pscustomobject]@{ Status = 'Warning'; FirstStep = 1; LastStep = 9; Findings = @(
            [pscustomobject]@{ Code = 'LossSpike'; Severity = 'Warning' }, [pscustomobject]@{ Code = 'Plateau'; Severity = 'Info' }) }
        (Get-WatchdogDecision -Run r -Report $report).Reason | Should -Be 'Warning: LossSpike.'
    }
}
