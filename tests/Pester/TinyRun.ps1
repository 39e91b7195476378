# Shared by Pester tests: a tiny Tacotron 2 on the bundled demo corpus; a training step takes milliseconds.
$script:Repo = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
$script:Corpus = Join-Path $Repo 'samples/demo-corpus'

function New-TinyConfig {
    param(
        [string] $Path,
        [string] $Extra = '',
        [int] $MaxSteps = 6,
        [int] $ValidationEverySteps = 3,
        [int] $MaxDecoderSteps = 60,
        [bool] $TensorBoard = $true
    )
    @"
data:
  path: $Corpus
model:
  preset: demo
  symbols_embedding_dim: 16
  encoder_embedding_dim: 16
  encoder_n_convolutions: 1
  attention_rnn_dim: 24
  decoder_rnn_dim: 24
  prenet_dim: 16
  attention_dim: 8
  attention_location_n_filters: 4
  attention_location_kernel_size: 5
  postnet_embedding_dim: 8
  postnet_n_convolutions: 2
  max_decoder_steps: $MaxDecoderSteps
training:
  max_steps: $MaxSteps
  batch_size: 4
  threads: 1
  validation_every_steps: $ValidationEverySteps
  validation_sentences: 2
  checkpoint_every_steps: 2
  alignment_every_steps: 2
  tensor_board: $($TensorBoard.ToString().ToLowerInvariant())
$Extra
"@ | Set-Content -Path $Path
    $Path
}
