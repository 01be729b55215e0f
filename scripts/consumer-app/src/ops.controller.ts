// docs/admin.md: an app's own operator route on top of the injectable UploadAdminService.
import { Controller, Get } from '@nestjs/common';
import { UploadAdminService, UploadStatus } from '@vali-blob/nestjs';
import type { AdminUploadPage } from '@vali-blob/nestjs';

@Controller('ops')
export class OpsController {
  constructor(private readonly admin: UploadAdminService) {}

  /** Unfinished uploads, oldest ids first (one page). */
  @Get('unfinished')
  unfinished(): Promise<AdminUploadPage> {
    return this.admin.find({ status: [UploadStatus.Pending, UploadStatus.InProgress], limit: 50 });
  }
}
