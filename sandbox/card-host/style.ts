/** The look of the stand-in components (browser/ui-extensions.tsx), near HubSpot's own. */
export const CARD_HOST_STYLE = `
.hs-extension{font-size:14px;color:#33475b}
.hs-text{margin:0}.hs-microcopy{font-size:12px;color:#516f90}.hs-block{display:block}
.hs-heading{font-size:16px;margin:0;font-weight:600;color:#33475b}
.hs-divider{border:0;border-top:1px solid #dfe3eb;margin:4px 0;width:100%}
.hs-link{color:#0091ae;font-weight:500;text-decoration:none}.hs-link:hover{text-decoration:underline}
.hs-tile{border:1px solid #cbd6e2;border-radius:4px;padding:16px}.hs-tile.hs-compact{padding:8px}
.hs-button-row{display:flex;gap:8px;flex-wrap:wrap}
.hs-button{align-self:flex-start;font:inherit;font-weight:600;border-radius:3px;padding:8px 16px;cursor:pointer;border:1px solid #ff7a59;display:inline-flex;align-items:center;gap:6px;text-decoration:none}
.hs-button-primary{background:#ff7a59;color:#fff}.hs-button-primary:hover{background:#ff8f73}
.hs-button-secondary{background:#fff;color:#ff7a59}.hs-button-destructive{background:#f2545b;border-color:#f2545b;color:#fff}
.hs-button-transparent{background:transparent;border-color:transparent;color:#0091ae}
.hs-button:disabled{opacity:.6;cursor:default}
.hs-alert{border-radius:3px;padding:10px 14px;border:1px solid #7fd1de;background:#e5f5f8;border-left-width:4px}
.hs-alert-title{font-weight:600;margin-bottom:2px}
.hs-alert-warning{background:#fef8f0;border-color:#fcc57e}.hs-alert-danger{background:#fde8e9;border-color:#f2545b}
.hs-alert-success{background:#e5f8f6;border-color:#00bda5}.hs-alert-tip{background:#f6f9fc;border-color:#cbd6e2}
.hs-alerts{position:sticky;top:0;z-index:5;display:flex;flex-direction:column;gap:6px;max-width:1180px;margin:0 auto;padding:0 24px}
.hs-alerts:empty{display:none}.hs-page-alert{display:flex;justify-content:space-between;gap:12px;margin-top:8px;box-shadow:0 1px 4px rgba(45,62,80,.16)}
.hs-alert-close{background:none;border:0;font-size:18px;line-height:1;cursor:pointer;color:#33475b;padding:0 4px}
.hs-status-tag{display:inline-flex;align-items:center;gap:6px;font-size:12px;font-weight:600;padding:1px 8px;border-radius:3px;background:#eaf0f6;white-space:nowrap}
.hs-status-dot{width:8px;height:8px;border-radius:50%;background:#7c98b6}
.hs-status-info .hs-status-dot{background:#0091ae}.hs-status-success .hs-status-dot{background:#00bda5}
.hs-status-warning .hs-status-dot{background:#f5c26b}.hs-status-danger .hs-status-dot{background:#f2545b}
.hs-status-tag.hs-hollow{background:#fff;border:1px solid #cbd6e2}
.hs-tag{display:inline-block;font-size:12px;padding:1px 8px;border-radius:3px;background:#eaf0f6;border:1px solid #cbd6e2}
.hs-spinner{display:flex;align-items:center;gap:8px;color:#516f90}.hs-spinner.hs-centered{justify-content:center;padding:24px}
.hs-spinner-wheel{width:18px;height:18px;border:2px solid #cbd6e2;border-top-color:#ff7a59;border-radius:50%;animation:hs-spin .8s linear infinite;display:inline-block}
.hs-spinner-wheel.hs-small{width:12px;height:12px}
@keyframes hs-spin{to{transform:rotate(360deg)}}
.hs-empty{display:flex;gap:16px;align-items:center}.hs-empty.hs-vertical{flex-direction:column;text-align:center}
.hs-empty-art{flex:none;width:56px;height:56px;border-radius:50%;background:#eaf0f6 radial-gradient(circle at 50% 40%,#cbd6e2 0 9px,transparent 10px)}
.hs-empty-title{font-weight:600;font-size:15px;margin-bottom:4px}
.hs-error-state{display:flex;flex-direction:column;gap:8px;align-items:flex-start;padding:8px 0}
.hs-table{width:100%;border-collapse:collapse;table-layout:auto}
.hs-table th{font-size:12px;text-transform:uppercase;letter-spacing:.03em;color:#516f90;background:#f5f8fa;text-align:left;padding:8px;width:auto}
.hs-table td{padding:8px;border-top:1px solid #dfe3eb;vertical-align:middle;overflow-wrap:anywhere}
.hs-table.hs-bordered{border:1px solid #dfe3eb}
.hs-dl{display:flex;flex-wrap:wrap;gap:12px 32px;margin:0}.hs-dl.hs-column{flex-direction:column}
.hs-dl-item dt{font-size:12px;color:#516f90;font-weight:600}.hs-dl-item dd{margin:0;overflow-wrap:anywhere}
.hs-field{display:flex;flex-direction:column;gap:4px;max-width:480px}
.hs-label{font-weight:600;font-size:13px}
.hs-input{font:inherit;padding:7px 10px;border:1px solid #cbd6e2;border-radius:3px;background:#f5f8fa;color:#33475b}
.hs-input:focus{outline:2px solid #00a4bd;background:#fff}
.hs-field-error .hs-input{border-color:#f2545b}.hs-validation{color:#d94c53;font-size:12px}
.hs-checkbox,.hs-toggle{display:flex;gap:8px;align-items:flex-start;cursor:pointer}
.hs-checkbox input,.hs-toggle input{margin-top:3px;accent-color:#ff7a59}
.hs-checkbox.hs-readonly{cursor:default;color:#7c98b6}
.hs-list{margin:0;padding-left:20px}.hs-statistics{gap:24px}.hs-statistic-number{font-size:24px;font-weight:300}
.hs-visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
.hs-accordion summary{cursor:pointer;font-weight:600}
`;
