/** omniprep/source: inputs from outside: the SSRF-guarded downloader and the range reader for http(s) media. */
export { download, checkUrl, forbiddenAddressReason, DOWNLOAD_DEFAULTS, type DownloadOptions, type DownloadResult } from './download.js';
export { RemoteFile, type RangeReaderOptions, type FetchStats, type ByteRange } from './range.js';
export { isRemoteInput, type RemoteOptions, type RemoteReport } from './remote.js';
