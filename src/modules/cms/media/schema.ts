import type { Generated } from 'kysely';

export type MediaKind = 'image' | 'document';

/** One stored size/format of a file: `original`, `original-webp`, `960`, `960-webp`… or `file` for documents. */
export interface MediaVariant {
  key: string;
  mime: string;
  width: number | null;
  height: number | null;
  bytes: number;
}

/**
 * A file in a site's media library. The bytes live on disk under MEDIA_DIR/<storage_key>/ (a
 * random name, never the uploaded one); the row holds what is shown and how it is served.
 */
export interface CmsMediaTable {
  id: Generated<number>;
  site_id: number;
  /** The uploader's organisation: who may see, use, edit and delete the file. */
  organization_id: number | null;
  kind: MediaKind;
  /** Sanitised original name, Unicode kept (shown, and used at the end of URLs). */
  file_name: string;
  /** Lower-case extension the content was checked against (jpg, png, pdf, docx…). */
  extension: string;
  mime: string;
  /** Size of the stored original (after EXIF removal for photos). */
  bytes: number;
  width: number | null;
  height: number | null;
  /** Default alternative text offered when the image is inserted into a page. */
  alt: string;
  decorative: number;
  /** Title and description of a document (the link text defaults to the title). */
  title: string;
  description: string;
  storage_key: string;
  /** JSON: MediaVariant[] */
  variants: string;
  sha256: string;
  uploaded_by: number | null;
  created_at: string;
  updated_at: string;
}

/** Which media each page version references (versions never change, so this is computed once). */
export interface CmsMediaRefTable {
  version_id: number;
  media_id: number;
}

/** Versions whose references are in cms_media_refs (including those that reference nothing). */
export interface CmsMediaScannedTable {
  version_id: number;
}

declare module '../../../core/db/schema.js' {
  interface Database {
    cms_media: CmsMediaTable;
    cms_media_refs: CmsMediaRefTable;
    cms_media_scanned: CmsMediaScannedTable;
  }
}
