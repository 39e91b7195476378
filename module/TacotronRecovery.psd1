@{
    RootModule           = 'TacotronRecovery.Cmdlets.dll'
    ModuleVersion        = '0.1.0'
    GUID                 = '5f0c7f0e-2b7a-4f59-9a61-3c4d0e7b9a12'
    Author               = 'TacotronRecovery contributors'
    CompanyName          = 'TacotronRecovery'
    Copyright            = '(c) TacotronRecovery contributors. MIT License.'
    Description          = 'Trains Tacotron 2 text-to-speech models with TorchSharp and keeps the trainings alive: health checks, automatic recovery, Telegram alerts. A package carries the native libtorch of the platform it was built for (build.ps1 package: one package per RID, e.g. linux-x64).'
    PowerShellVersion    = '7.4'
    CompatiblePSEditions = @('Core')
    FormatsToProcess     = @(
        'TacotronRecovery.format.ps1xml'
        'formats/Data.format.ps1xml'
        'formats/Alerts.format.ps1xml'
        'formats/Runs.format.ps1xml'
        'formats/Health.format.ps1xml'
        'formats/Recovery.format.ps1xml'
        'formats/Training.format.ps1xml'
    )
    CmdletsToExport      = @(
        'Test-TacotronEnvironment'
        'Test-TacotronDataset'
        'Start-TacotronTraining'
        'Stop-TacotronTraining'
        'Get-TacotronRun'
        'Get-TacotronCheckpoint'
        'Get-TrainingMetrics'
        'Test-LossHealth'
        'Get-AttentionDiagnostics'
        'Export-TacotronPlot'
        'Invoke-EmergencyRecovery'
        'Send-TrainingAlert'
        'Invoke-TacotronSynthesis'
        'Import-TacotronCheckpoint'
        'Export-TacotronCheckpoint'
        'Invoke-TacotronForward'
    )
    FunctionsToExport    = @()
    AliasesToExport      = @()
    VariablesToExport    = @()
    PrivateData          = @{
        PSData = @{
            # Read by Compress-PSResource / Publish-PSResource into the package's nuspec (tags, licence URL).
            Tags       = @('Tacotron2', 'TTS', 'TorchSharp', 'MachineLearning', 'Recovery', 'PSEdition_Core')
            LicenseUri = 'https://opensource.org/licenses/MIT'
        }
    }
}
