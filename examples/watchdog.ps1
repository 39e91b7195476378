#Requires -Version 7.2
<#
.SYNOPSIS
    Watches Tacotron trainings: metrics -> health -> recovery -> alert. Meant for cron, a systemd timer or Windows Task Scheduler.

.DESCRIPTION
    For one run (-Run) or every run under -RunsRoot, the watchdog reads the health of the last -Last steps
    (Test-LossHealth with the run's own config.yaml thresholds) and decides:

      Healthy                                              -> None     (the recovery counter is reset)
      Warning                                              -> Alert    (Send-TrainingAlert -Severity Warning)
      Critical, engine running with its recovery on        -> Alert    (the engine rolls back / enters safe mode itself)
      Critical, engine not running, exhausted or failed,
               or running with recovery disabled           -> Recover  (Invoke-EmergencyRecovery [-Notify])
      Critical, but MaxRecoveries reached since the run
               was last healthy, or held by the operator   -> Skipped  (Critical alert: a human is needed)

    Its memory lives in the run folder, watchdog.json: consecutive_recoveries (reset by a Healthy check), the
    recoveries it started (time, step, outcome), the last alert (so a cron job does not repeat the same alert more
    often than -RepeatAlertMinutes), and "hold": true, which an operator sets to keep the watchdog's hands off a run.

    It writes one decision object per run (TacotronRecovery.WatchdogDecision: Run, Status, Action, Reason, Findings,
    ExitCode, EngineRunning, Recoveries, Outcome, Plan, AlertSent) and exits with the highest exit code of its runs.
    -WhatIf shows what it would do (the recovery plan included) and changes nothing, watchdog.json included.

    The decision itself is the pure function Get-WatchdogDecision; dot-source this script to use or test it:
        . ./examples/watchdog.ps1; Get-WatchdogDecision -Run r -Report $report -RunStatus Stopped

.PARAMETER Run
    Run name (under -RunsRoot) or run folder. Omitted: every run under -RunsRoot.
.PARAMETER RunsRoot
    Folder holding run directories. Default: $env:TACOTRON_RUNS, else ./runs.
.PARAMETER Last
    Steps of recent metrics to judge (default 500).
.PARAMETER Notify
    Pass -Notify to Invoke-EmergencyRecovery: the plan, stage progress and result go to Telegram (or the run's outbox).
.PARAMETER MaxRecoveries
    Emergency recoveries the watchdog may start for a run before it has been seen Healthy again (default 3).
.PARAMETER RecoverySteps
    Step budget of each emergency recovery (Invoke-EmergencyRecovery -MaxSteps; default 3000).
.PARAMETER RepeatAlertMinutes
    The same alert (run, status, action, finding codes) is not sent again within this many minutes (default 60; 0 = always).
.PARAMETER ModulePath
    TacotronRecovery module to import when it is not loaded yet. Default: $env:TACOTRON_MODULE_PATH, else by name.

.OUTPUTS
    TacotronRecovery.WatchdogDecision

.NOTES
    Exit codes (the highest over the runs checked):
      0  Healthy, or nothing to judge yet (no metrics)
      1  the watchdog itself failed (module missing, run not found, unreadable run files)
      2  Warning: alert sent
      3  Critical: the engine is running and recovering by itself; alert sent
      4  Critical: emergency recovery ran and the run recovered (with -WhatIf: would run it)
      5  Critical: emergency recovery ran and failed
      6  Critical: recovery skipped (MaxRecoveries reached or run held); Critical alert sent

.EXAMPLE
    ./examples/watchdog.ps1 -Run voice -Notify
    Checks the run 'voice' and acts.
.EXAMPLE
    ./examples/watchdog.ps1 -RunsRoot /srv/tts/runs -WhatIf
    What it would do for every run, without doing it.
#>
[CmdletBinding(SupportsShouldProcess)]
param(
    [string] $Run,
    [string] $RunsRoot,
    [ValidateRange(1, [int]::MaxValue)] [int] $Last = 500,
    [switch] $Notify,
    [ValidateRange(0, 1000)] [int] $MaxRecoveries = 3,
    [ValidateRange(1, [int]::MaxValue)] [int] $RecoverySteps = 3000,
    [ValidateRange(0, 100000)] [int] $RepeatAlertMinutes = 60,
    [string] $ModulePath
)

function Get-WatchdogDecision {
    <#
    .SYNOPSIS
        The watchdog's decision for one run, from facts only (no IO): see the script help for the table.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [string] $Run,
        # A HealthReport (Status, Findings, FirstStep, LastStep), or $null when the run has no metrics yet.
        [AllowNull()] [object] $Report,
        # Status as Get-TacotronRun reports it: Running, Recovering, Stopped, Failed, Completed, 'Failed (engine not running)', ...
        [AllowEmptyString()] [string] $RunStatus = '',
        [bool] $RecoveryEnabled = $true,
        [bool] $Exhausted = $false,
        # watchdog.json as a dictionary (consecutive_recoveries, hold, recoveries, ...).
        [System.Collections.IDictionary] $State = @{},
        [int] $MaxRecoveries = 3
    )
    $status = if ($null -ne $Report) { [string]$Report.Status } else { 'Unknown' }
    $findings = @(if ($null -ne $Report) { $Report.Findings })
    $running = $RunStatus -like 'Running*' -or $RunStatus -like 'Recovering*'
    $consecutive = [int]($State['consecutive_recoveries'] ?? 0)
    $codes = @($findings | Where-Object { [string]$_.Severity -eq $status } | ForEach-Object { $_.Code } | Select-Object -Unique) -join ', '
    $lastOutcome = @($State['recoveries']) | Where-Object { $_ } | Select-Object -Last 1 | ForEach-Object { $_['outcome'] }

    $action, $code, $reason = switch ($status) {
        'Unknown' { 'None', 0, 'No metrics yet: nothing to judge.' }
        'Healthy' { 'None', 0, ('Healthy over steps {0}-{1}.' -f $Report.FirstStep, $Report.LastStep) }
        'Warning' { 'Alert', 2, "Warning: $codes." }
        default {
            if ($State['hold']) {
                'Skipped', 6, "Critical ($codes), but the run is held by an operator (watchdog.json: hold = true)."
            }
            elseif ($running -and $RecoveryEnabled) {
                'Alert', 3, "Critical ($codes) while the engine is running ($RunStatus): its recovery controller is handling it."
            }
            elseif ($consecutive -ge $MaxRecoveries) {
                'Skipped', 6, "Critical ($codes), but $consecutive emergency recoveries were started since the run was last healthy (cap $MaxRecoveries): a human is needed."
            }
            else {
                $why = if ($running) { "the engine is running ($RunStatus) with its recovery disabled" }
                       elseif ($Exhausted) { "recovery is exhausted (status $RunStatus)" }
                       elseif ($lastOutcome -and $lastOutcome -ne 'Recovered') { "the last emergency recovery ended $lastOutcome and the engine is not running (status $RunStatus)" }
                       else { "the engine is not running (status $(if ($RunStatus) { $RunStatus } else { 'unknown' }))" }
                'Recover', 4, "Critical ($codes) and ${why}: emergency recovery $($consecutive + 1) of $MaxRecoveries."
            }
        }
    }
    [pscustomobject]@{
        PSTypeName    = 'TacotronRecovery.WatchdogDecision'
        Run           = $Run
        Status        = $status
        Action        = $action
        Reason        = $reason
        Findings      = $findings
        ExitCode      = $code
        EngineRunning = $running
        Recoveries    = $consecutive
        Outcome       = $null
        Plan          = $null
        AlertSent     = $false
    }
}

function Read-WatchdogState([string] $RunPath) {
    $file = Join-Path $RunPath 'watchdog.json'
    if (-not (Test-Path -LiteralPath $file)) { return [ordered]@{ consecutive_recoveries = 0; hold = $false; recoveries = @() } }
    try {
        $state = Get-Content -LiteralPath $file -Raw | ConvertFrom-Json -AsHashtable
        if ($state -isnot [System.Collections.IDictionary]) { throw 'not a JSON object' }
        $state['recoveries'] = @($state['recoveries'] | Where-Object { $_ })
        $state
    }
    catch {
        Write-Warning "watchdog: '$file' is unreadable ($_); starting from an empty state."
        [ordered]@{ consecutive_recoveries = 0; hold = $false; recoveries = @() }
    }
}

function Save-WatchdogState([string] $RunPath, [System.Collections.IDictionary] $State) {
    $file = Join-Path $RunPath 'watchdog.json'
    $temp = "$file.tmp-$PID"
    $State | ConvertTo-Json -Depth 6 | Set-Content -LiteralPath $temp -Encoding utf8NoBOM -WhatIf:$false -Confirm:$false
    Move-Item -LiteralPath $temp -Destination $file -Force -WhatIf:$false -Confirm:$false
}

function Send-WatchdogAlert($Decision, $Report, [string] $RunPath, [string] $Config, [System.Collections.IDictionary] $State) {
    $key = '{0}|{1}|{2}' -f $Decision.Status, $Decision.Action, (@($Decision.Findings | ForEach-Object { $_.Code }) -join ',')
    $now = [datetimeoffset]::UtcNow
    if ($RepeatAlertMinutes -gt 0 -and $State['last_alert_key'] -eq $key -and $State['last_alert_time'] -and
        ($now - [datetimeoffset]$State['last_alert_time']).TotalMinutes -lt $RepeatAlertMinutes) {
        Write-Verbose "watchdog: $($Decision.Run): the same alert went out at $($State['last_alert_time']); not repeated."
        return $false
    }
    $severity = if ($Decision.Status -eq 'Warning') { 'Warning' } else { 'Critical' }
    $alert = @{ Message = "watchdog: $($Decision.Run) $($Decision.Status) - $($Decision.Reason)"; Severity = $severity; Run = $RunPath }
    if ($Config) { $alert.Config = $Config }
    try {
        if ($null -ne $Report) { $Report | Send-TrainingAlert @alert -WhatIf:$WhatIfPreference -ErrorAction Stop | Out-Null }
        else { Send-TrainingAlert @alert -WhatIf:$WhatIfPreference -ErrorAction Stop | Out-Null }
    }
    catch {
        Write-Warning "watchdog: $($Decision.Run): the alert could not be sent: $_"
        return $false
    }
    if ($WhatIfPreference) { return $false }
    $State['last_alert_key'] = $key
    $State['last_alert_time'] = $now.ToString('o')
    $true
}

function Invoke-WatchdogRun($Info) {
    $path = $Info.Path
    $config = Join-Path $path 'config.yaml'
    if (-not (Test-Path -LiteralPath $config)) { $config = $null }
    $state = Read-WatchdogState $path

    $report = $null
    if ((Test-Path -LiteralPath (Join-Path $path 'metrics.jsonl')) -or (Test-Path -LiteralPath (Join-Path $path 'alignment.jsonl'))) {
        $health = @{ Run = $path; Last = $Last; ErrorAction = 'Stop' }
        if ($config) { $health.Config = $config }
        $report = Test-LossHealth @health
    }
    $recoveryEnabled = $true
    if ($config) {
        try { $recoveryEnabled = [TacotronRecovery.Core.Config.ConfigLoader]::Load($config).Recovery.Enabled }
        catch { Write-Warning "watchdog: $($Info.Run): cannot read ${config}: $($_.Exception.Message)" }
    }
    $exhausted = $Info.Status -like 'Failed*' -and
        [bool](Get-TrainingMetrics -Run $path -Kind Event -Last 200 -ErrorAction SilentlyContinue | Where-Object { [TacotronRecovery.Core.Contract.EventCodes]::IsExhaustion($_.Code) })

    $decision = Get-WatchdogDecision -Run $Info.Run -Report $report -RunStatus $Info.Status -RecoveryEnabled $recoveryEnabled `
        -Exhausted $exhausted -State $state -MaxRecoveries $MaxRecoveries
    Write-Verbose "watchdog: $($decision.Run): $($decision.Status) -> $($decision.Action): $($decision.Reason)"

    switch ($decision.Action) {
        'Alert' { $decision.AlertSent = Send-WatchdogAlert $decision $report $path $config $state }
        'Skipped' { $decision.AlertSent = Send-WatchdogAlert $decision $report $path $config $state }
        'Recover' {
            $recovery = @{ Run = $path; MaxSteps = $RecoverySteps; Notify = [bool]$Notify; WhatIf = [bool]$WhatIfPreference; Confirm = $false }
            $outcome = 'Error'
            try {
                $out = Invoke-EmergencyRecovery @recovery -ErrorAction Stop
                $result = $out | Where-Object { $_.PSObject.Properties['Outcome'] } | Select-Object -Last 1
                $decision.Plan = $out | Where-Object { $_.PSObject.Properties['Stages'] } | Select-Object -First 1
                $outcome = if ($WhatIfPreference) { 'WhatIf' } elseif ($result) { [string]$result.Outcome } else { 'Error' }
            }
            catch {
                Write-Warning "watchdog: $($decision.Run): the emergency recovery failed: $_"
            }
            $decision.Outcome = $outcome
            if ($outcome -notin 'Recovered', 'WhatIf') {
                $decision.ExitCode = 5
                $decision.Reason += " The recovery ended: $outcome."
                if (-not $Notify) { $decision.AlertSent = Send-WatchdogAlert $decision $report $path $config $state }
            }
            if (-not $WhatIfPreference) {
                $state['consecutive_recoveries'] = [int]($state['consecutive_recoveries'] ?? 0) + 1
                $state['recoveries'] = @(@($state['recoveries']) + [ordered]@{ time = [datetimeoffset]::UtcNow.ToString('o'); step = $Info.Step; outcome = $outcome } | Select-Object -Last 20)
                $decision.Recoveries = $state['consecutive_recoveries']
            }
        }
        'None' { if ($decision.Status -eq 'Healthy') { $state['consecutive_recoveries'] = 0 } }
    }
    if (-not $WhatIfPreference) {
        $state['last_check'] = [datetimeoffset]::UtcNow.ToString('o')
        $state['last_status'] = $decision.Status
        $state['last_action'] = $decision.Action
        Save-WatchdogState $path $state
    }
    $decision
}

# Dot-sourced (tests, other scripts): only the functions above are wanted.
if ($MyInvocation.InvocationName -eq '.') { return }

if (-not (Get-Module TacotronRecovery)) {
    $module = if ($ModulePath) { $ModulePath } elseif ($env:TACOTRON_MODULE_PATH) { $env:TACOTRON_MODULE_PATH } else { 'TacotronRecovery' }
    try { Import-Module $module -ErrorAction Stop }
    catch {
        Write-Error "watchdog: cannot import the TacotronRecovery module ($module): $_" -ErrorAction Continue
        exit 1
    }
}

$find = @{ ErrorAction = 'Stop' }
if ($Run) { $find.Run = $Run }
if ($RunsRoot) { $find.RunsRoot = $RunsRoot }
try { $runs = @(Get-TacotronRun @find) }
catch {
    Write-Error "watchdog: $_" -ErrorAction Continue
    exit 1
}

# Under `pwsh -File watchdog.ps1`, `exit` discards objects still in the pipeline, so they are rendered first;
# called from a session or a script (`& ./watchdog.ps1`), the decisions are returned as objects.
$viaFile = @([Environment]::GetCommandLineArgs() | Where-Object { $_ -like '*.ps1' } |
    ForEach-Object { Resolve-Path -LiteralPath $_ -ErrorAction SilentlyContinue } | ForEach-Object { $_.Path }) -contains $PSCommandPath
$decisions = [System.Collections.Generic.List[object]]::new()
$exit = 0
foreach ($info in $runs) {
    try { $decision = Invoke-WatchdogRun $info }
    catch {
        $decision = [pscustomobject]@{
            PSTypeName = 'TacotronRecovery.WatchdogDecision'; Run = $info.Run; Status = 'Unknown'; Action = 'None'
            Reason = "The watchdog could not judge the run: $($_.Exception.Message)"; Findings = @(); ExitCode = 1
            EngineRunning = $null; Recoveries = $null; Outcome = $null; Plan = $null; AlertSent = $false
        }
    }
    if ($viaFile) { $decisions.Add($decision) } else { $decision }
    $exit = [math]::Max($exit, $decision.ExitCode)
}
if ($viaFile -and $decisions.Count -gt 0) { $decisions | Out-Default }
exit $exit
