import { isTypeCompatible, normalizeMediaType } from '../../src/policy/content-sniffer';

const DOCX = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';
const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

describe('normalizeMediaType', () => {
  it.each([
    ['IMAGE/PNG; charset=x', 'image/png'],
    ['  image/JPG ', 'image/jpeg'],
    ['image/pjpeg', 'image/jpeg'],
    ['audio/x-mp3', 'audio/mpeg'],
    ['audio/vnd.wave', 'audio/wav'],
    ['application/x-gzip', 'application/gzip'],
    ['application/x-zip-compressed', 'application/zip'],
    ['text/xml; charset=utf-8', 'application/xml'],
    ['video/x-m4v', 'video/mp4'],
    ['application/x-unknown', 'application/x-unknown'],
    ['', ''],
  ])('%j → %j', (input, output) => {
    expect(normalizeMediaType(input)).toBe(output);
  });
});

describe('isTypeCompatible', () => {
  it.each<[string, string | null]>([
    ['image/png', 'image/png'],
    ['IMAGE/PNG; charset=x', 'image/png'],
    ['image/jpg', 'image/jpeg'],
    ['audio/mp3', 'audio/mpeg'],
    ['audio/x-wav', 'audio/wav'],
    ['application/x-gzip', 'application/gzip'],
    ['application/octet-stream', 'application/x-msdownload'],
    ['application/octet-stream', null],
    ['', 'application/pdf'],
    // ZIP family, both ways
    [DOCX, 'application/zip'],
    ['application/vnd.oasis.opendocument.spreadsheet', 'application/zip'],
    ['application/java-archive', 'application/zip'],
    ['application/epub+zip', 'application/zip'],
    ['application/zip', DOCX],
    ['application/x-zip-compressed', 'application/vnd.oasis.opendocument.text'],
    // text
    ['text/csv', 'text/plain'],
    ['text/markdown; charset=utf-8', 'text/plain'],
    ['application/json', 'text/plain'],
    ['application/ld+json', 'text/plain'],
    ['application/x-yaml', 'text/plain'],
    ['application/javascript', 'text/plain'],
    ['image/svg+xml', 'text/plain'],
    ['text/xml', 'application/xml'],
    ['application/rss+xml', 'application/xml'],
    ['image/svg+xml', 'application/xml'],
    ['text/plain', 'application/xml'],
    ['text/xml', 'image/svg+xml'],
    // ISO media family
    ['audio/mp4', 'video/mp4'],
    ['video/mp4', 'video/quicktime'],
    // open verdicts fit declared types we know nothing about
    ['application/vnd.ms-excel', 'text/plain'],
    ['application/x-tar', 'application/gzip'],
    ['application/vnd.android.package-archive', 'application/zip'],
    // unknown bytes fit declared types we have no signature for
    ['application/x-custom', null],
    ['video/x-matroska', null],
  ])('%j fits detected %j', (declared, detected) => {
    expect(isTypeCompatible(declared, detected)).toBe(true);
  });

  it.each<[string, string | null]>([
    ['image/png', 'application/pdf'],
    ['image/png', 'image/jpeg'],
    ['image/jpeg', 'application/x-msdownload'],
    ['application/pdf', 'application/zip'],
    [DOCX, XLSX],
    ['application/zip', 'application/gzip'],
    ['video/mp4', 'audio/mpeg'],
    // closed verdicts contradict any other declared type, known or not
    ['application/x-custom', 'application/pdf'],
    ['application/x-custom', 'image/svg+xml'],
    // text
    ['image/png', 'text/plain'],
    ['application/pdf', 'text/plain'],
    ['application/json', 'application/xml'],
    ['text/plain', 'image/svg+xml'],
    ['text/html', 'image/svg+xml'],
    ['text/plain', 'application/x-executable'],
    // unknown bytes contradict what we would have recognised
    ['image/png', null],
    ['IMAGE/JPG', null],
    [DOCX, null],
    ['application/zip', null],
    ['text/plain', null],
    ['text/csv; charset=utf-8', null],
    ['application/json', null],
  ])('%j does not fit detected %j', (declared, detected) => {
    expect(isTypeCompatible(declared, detected)).toBe(false);
  });
});
